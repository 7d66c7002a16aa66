import { GenerationOutputError, ValidationError } from "../../errors/errors.js";
import type { GenerateQuestionsInput, QuestionGenerator } from "../../ports/question-generator.js";
import { fnv1a, mulberry32 } from "../../shared/random.js";
import { analyse, capitalise, detokenize, discourseMarkers, isStop } from "./pseudo-query-analysis.js";
import { claimQuery, cropQuery, cropWords, keyPhraseQuestion, keywordQuery, maxQueryWords, yesNoQuestion } from "./pseudo-query-makers.js";

/**
 * Training queries made from the chunk itself: no LLM, no network, no cost.
 * They are pseudo-queries, not questions a person wrote, and the run records
 * them as such (`model`: "offline:pseudo-queries/v1"). Built from published
 * LLM-free methods:
 * - Inverse Cloze Task (Lee et al., 2019): a sentence of the passage stands in
 *   for a query about the rest. Chosen by salience, stripped of discourse
 *   markers ("We found that ...") and cropped, so it reads like a claim.
 * - Random cropping (Contriever, Izacard et al., 2021): a short span of the text.
 * - Key phrases by RAKE (Rose et al., 2010) scored with in-chunk TF and
 *   rarity cues, turned into template questions ("What is X?", "How does X
 *   affect Y?", "What does ABBR stand for?", "What was the response rate?").
 * - Relation sentences ("A increases B") turned into yes/no questions.
 * Deterministic: the same chunk id and text always give the same queries.
 */
export interface PseudoQueryGeneratorOptions {
  /** Mixed with each chunk's id; change it to draw a different set of queries. */
  seed?: number;
  /**
   * "mixed" (default): claims, template questions, yes/no questions, crops
   * and key phrases, for question-style searches. "sentences": the chunk's
   * own sentences, most salient first, cleaned into standalone statements
   * (no parentheticals, p-values, lead-ins like "We found that"): one per
   * sentence, so every sentence of the corpus becomes a key of deep memory's
   * question memory. Best where searches are statements (claims, log lines,
   * quotes); on SciFact it is what lifts recall@10 without an LLM.
   */
  style?: PseudoQueryStyle;
}

export type PseudoQueryStyle = "mixed" | "sentences";

export const PSEUDO_QUERY_MODEL = "offline:pseudo-queries/v1";
export const PSEUDO_SENTENCES_MODEL = "offline:pseudo-queries/sentences-v1";

type Kind = "claim" | "question" | "crop" | "keywords" | "yesno";

/** Round-robin order of query kinds: claim-like sentences first, then the rest for diversity. */
const kindOrder: readonly Kind[] = ["claim", "question", "yesno", "crop", "keywords", "claim", "question", "crop", "yesno", "claim"];

export class PseudoQueryGenerator implements QuestionGenerator {
  readonly model: string;
  readonly style: PseudoQueryStyle;
  private readonly seed: number;

  constructor(options: PseudoQueryGeneratorOptions = {}) {
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw new ValidationError("seed must be an integer", [{ path: "seed", message: "integer" }]);
    const style = options.style ?? "mixed";
    if (style !== "mixed" && style !== "sentences") {
      throw new ValidationError(`style must be "mixed" or "sentences", got ${JSON.stringify(style)}`, [{ path: "style", message: "mixed | sentences" }]);
    }
    this.seed = seed;
    this.style = style;
    this.model = style === "sentences" ? PSEUDO_SENTENCES_MODEL : PSEUDO_QUERY_MODEL;
  }

  async generate({ chunk, count }: GenerateQuestionsInput): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new ValidationError(`count must be an integer from 1 to 50, got ${count}`, [{ path: "count", message: "1..50" }]);
    }
    if (chunk.text.trim() === "") throw new GenerationOutputError("empty chunk");
    const queries =
      this.style === "sentences" ? sentenceQueries(chunk.text, count) : pseudoQueries(chunk.text, count, fnv1a(`${this.seed}:${chunk.id}`));
    if (queries.length === 0) throw new GenerationOutputError(`chunk ${chunk.id} is too short to make a pseudo-query from`);
    return queries;
  }
}

/** The queries for one text; exported for inspection and tests. */
export function pseudoQueries(text: string, count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const analysis = analyse(text);
  // Under three content words there is nothing to ask about but the text itself.
  if (analysis.words.filter((w) => !w.stop).length < 3) {
    const whole = detokenize(analysis.words.filter((w) => !/^[,;:()]$/.test(w.text)).map((w) => w.text)).replace(/[.!?]+$/, "");
    return whole.replace(/[^\p{L}\p{N}]/gu, "").length >= 3 ? [whole] : [];
  }
  const makers: Record<Kind, () => string | undefined> = {
    claim: () => claimQuery(analysis, random),
    question: () => keyPhraseQuestion(analysis, random),
    yesno: () => yesNoQuestion(analysis, random),
    crop: () => cropQuery(analysis, random),
    keywords: () => keywordQuery(analysis, random),
  };
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (query: string | undefined): boolean => {
    if (query === undefined) return false;
    const clean = query.replace(/\s+/g, " ").trim();
    const key = dedupeKey(clean);
    if (key.length < 3 || seen.has(key)) return false;
    seen.add(key);
    out.push(clean);
    return true;
  };
  // Each kind may fail (no relation verb, no key phrase...); try each a few times, then move on.
  const budget = count * 12;
  for (let attempt = 0; out.length < count && attempt < budget; attempt++) {
    add(makers[kindOrder[attempt % kindOrder.length]!]());
  }
  // Very short chunks: the text itself is the only honest query.
  if (out.length === 0) add(detokenize(cropWords(analysis.words.map((w) => w.text), 0, maxQueryWords)));
  return out;
}

/** Two queries that differ only in case and punctuation are one query. */
function dedupeKey(query: string): string {
  return query.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** Words a sentence query keeps: enough for one finding, short enough not to be the whole chunk. */
const maxSentenceWords = 30;

/** The "sentences" style: each sentence once, most salient first, as a standalone statement; exported for tests. */
export function sentenceQueries(text: string, count: number): string[] {
  const a = analyse(text);
  const order = a.sentences.map((_, i) => i).sort((x, y) => a.sentenceScores[y]! - a.sentenceScores[x]! || x - y);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of order) {
    if (out.length === count) break;
    const statement = cleanSentence(detokenize(a.sentences[s]!));
    const key = statement === undefined ? undefined : dedupeKey(statement);
    if (statement === undefined || !key || seen.has(key)) continue;
    seen.add(key);
    out.push(statement);
  }
  return out;
}

/** A sentence as a statement a reader could have written: undefined when under four words or three content words remain. */
function cleanSentence(sentence: string): string | undefined {
  let s = sentence
    .replace(/\s*\([^()]*\)/g, "")
    .replace(/\s*\[[^\]]*\]/g, "")
    .replace(/,?\s*\bp\s*[<=>≤≥]\s*0?[.,]\d+/gi, "");
  for (let pass = 0; pass < 3; pass++) for (const marker of discourseMarkers) s = s.replace(marker, "");
  // A clause after ";" or ":" is a list or an aside, not the finding.
  s = s.replace(/\s*[;:].*$/, "").replace(/^(?:that\s+|,\s*)/i, "").replace(/[\s,.;:]+$/, "").trim();
  const words = s.split(/\s+/).filter(Boolean);
  if (words.length < 4 || words.filter((w) => !isStop(w, w.toLowerCase())).length < 3) return undefined;
  return capitalise(words.slice(0, maxSentenceWords).join(" "));
}
