import { GenerationOutputError, ValidationError } from "../../errors/errors.js";
import type { GenerateQuestionsInput, QuestionGenerator } from "../../ports/question-generator.js";
import { fnv1a, mulberry32 } from "../../shared/random.js";

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

const maxQueryWords = 20;

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

// ---------------------------------------------------------------------------
// Analysis: sentences, words, stop words, word salience, RAKE phrases.

interface Word {
  text: string;
  lower: string;
  sentence: number;
  /** Index within its sentence. */
  index: number;
  stop: boolean;
}

interface Phrase {
  words: string[];
  text: string;
  score: number;
  sentence: number;
}

interface Analysis {
  sentences: string[][];
  words: Word[];
  salience: Map<string, number>;
  phrases: Phrase[];
  /** "sudden infant death syndrome (SIDS)" -> SIDS and its long form. */
  abbreviations: { short: string; long: string }[];
  tickers: string[];
  sentenceScores: number[];
}

const stopWords = new Set(
  (
    "a about above after again against all also although am among an and any are aren't as at be because been before being below " +
    "between both but by can cannot could did do does doing done down during each either else etc even ever every few for from " +
    "further had has have having he her here hers herself him himself his how however i if in into is it its itself just least " +
    "less let like made make makes many may me might more most much must my myself neither no nor not now of off often on once " +
    "one only or other others otherwise our ours ourselves out over own per rather same several shall she should since so some " +
    "such than that the their theirs them themselves then there therefore these they this those though through thus to too " +
    "toward towards under until up upon us use used uses using very via was we were what when where whether which while who " +
    "whom whose why will with within without would yet you your yours yourself " +
    // Reporting verbs and filler common in every domain: poor key phrases.
    "show shows showed shown suggest suggests suggested indicate indicates indicated demonstrate demonstrates demonstrated " +
    "found find finds report reports reported observed observe result results conclusion conclusions conclude concluded " +
    "study studies studied here present presented provide provides provided propose proposed describe described investigate " +
    "investigated examine examined evaluate evaluated assess assessed determine determined identify identified compared " +
    "obtained performed based including included include includes well new respectively significantly significant whereas " +
    "across along around beyond fully highly largely mainly mostly particularly previously recently relatively strongly " +
    "versus vs able unable thousand million billion trillion percent possible potential potentially important key novel first second two three four five data analysis analyses method methods " +
    "approach approaches aim aims objective objectives background purpose paper article work"
  ).split(" "),
);

/** Verbs end a key phrase ("interest rates reduce valuations" holds two topics, not one). */
const verbWords = new Set(
  (
    "allow allows allowed appear appears appeared achieve achieves achieved become becomes became beat beats bind binds bound " +
    "consist consists consisted contain contains contained display displays displayed encode encodes exhibit exhibits exhibited " +
    "exist exists existed fall falls fell gave give gives given involve involves lack lacks lacked mean means meant occur occurs " +
    "occurred produce produces remain remains remained reach reaches reached rise rises rose said say says seem seems share shares " +
    "take takes took taken grow grows grew grown sell sells sold buy buys bought measure measures measured move moves moved " +
    "drop drops dropped gain gains gained miss misses missed climb climbs climbed jump jumps jumped slide slides slid surge surges " +
    "surged plunge plunges plunged suggest suggests signal signals signaled signalled help helps helped makes works worked driven known seen done made written"
  ).split(" "),
);

/** Stripped from the start of a sentence so it reads like a claim, not like the paper talking about itself. */
const discourseMarkers = [
  /^(?:however|moreover|furthermore|additionally|in addition|finally|thus|therefore|hence|consequently|importantly|notably|overall|together|taken together|collectively|in summary|in conclusion|in contrast|conversely|similarly|specifically|interestingly|surprisingly|indeed|here|to this end|in this study|in this paper|in this work|in this report|in this article)\s*,?\s+/i,
  /^(?:these|our|the|this)\s+(?:results|findings|data|studies|study|observations|analyses|experiments)\s+(?:suggest|indicate|show|demonstrate|reveal|support|imply|establish|provide evidence|confirm)(?:ed|s)?\s+(?:that\s+)?/i,
  /^(?:we|i)\s+(?:\w+ly\s+)?(?:found|find|show|showed|shown|demonstrate|demonstrated|report|reported|observed|observe|conclude|concluded|propose|proposed|identify|identified|reveal|revealed|establish|established|provide evidence|suggest|suggested|hypothesize|hypothesized|confirm|confirmed|describe|present)\s+(?:that\s+)?/i,
  /^(?:this|the present|the current|our)\s+(?:study|paper|work|review|article|report|trial)\s+(?:focuses on|focused on|examines|examined|investigates|investigated|describes|reports|addresses|explores|explored)\s+/i,
  /^(?:it\s+(?:is|was)\s+(?:found|shown|demonstrated|observed|concluded|suggested)\s+that\s+)/i,
  /^(?:background|methods?|results?|conclusions?|objectives?|purpose|aims?|context|design|findings|interpretation|significance)\s*[:.-]\s*/i,
];

const abbreviationsBeforePeriod = new Set(["e.g", "i.e", "et al", "al", "fig", "figs", "vs", "approx", "ca", "no", "dr", "mr", "mrs", "ms", "inc", "ltd", "co", "corp", "u.s", "st"]);

function analyse(text: string): Analysis {
  const sentenceTexts = splitSentences(text);
  const sentences: string[][] = [];
  const words: Word[] = [];
  for (const sentence of sentenceTexts) {
    const tokens = tokenize(sentence);
    if (tokens.length === 0) continue;
    const s = sentences.length;
    sentences.push(tokens);
    tokens.forEach((token, index) => {
      const lower = token.toLowerCase();
      words.push({ text: token, lower, sentence: s, index, stop: isStop(token, lower) });
    });
  }

  // In-chunk TF times a rarity cue (long words, capitals, digits, symbols are rarer in general text).
  const tf = new Map<string, number>();
  for (const w of words) if (!w.stop) tf.set(w.lower, (tf.get(w.lower) ?? 0) + 1);
  const salience = new Map<string, number>();
  for (const w of words) {
    if (w.stop || salience.has(w.lower)) continue;
    let rarity = Math.min(w.lower.length, 12) / 6;
    if (/\d/.test(w.text)) rarity += 0.6;
    if (/^[A-Z$][A-Z0-9$-]{1,}$/.test(w.text)) rarity += 0.8;
    else if (/[A-Z]/.test(w.text.slice(1)) || (w.index > 0 && /^[A-Z]/.test(w.text))) rarity += 0.4;
    if (/-/.test(w.text)) rarity += 0.3;
    salience.set(w.lower, (1 + Math.log(tf.get(w.lower)!)) * rarity);
  }

  const phrases = rakePhrases(sentences, words, salience);
  const sentenceScores = sentences.map((tokens, s) => {
    const content = words.filter((w) => w.sentence === s && !w.stop);
    if (content.length < 3) return 0;
    const total = content.reduce((sum, w) => sum + (salience.get(w.lower) ?? 0), 0);
    // Favour informative sentences of ordinary length; very long ones make poor queries.
    const lengthPenalty = tokens.length > 45 ? 0.6 : 1;
    return (total / Math.sqrt(tokens.length)) * lengthPenalty;
  });

  const abbreviations: { short: string; long: string }[] = [];
  for (const match of text.matchAll(/((?:[\p{L}\p{N}-]+\s+){1,6}?[\p{L}\p{N}-]+)\s+\(([A-Z][A-Za-z0-9-]{1,9})\)/gu)) {
    const short = match[2]!;
    const long = longFormFor(match[1]!.trim(), short);
    if (long !== undefined) abbreviations.push({ short, long });
  }
  const shortForms = new Set(abbreviations.map((x) => x.short));
  const tickers = [
    ...new Set([
      ...[...text.matchAll(/\$[A-Z]{1,5}\b/g)].map((m) => m[0]),
      // "Tesla (TSLA)": capitals in parentheses that do not abbreviate the words before them.
      ...[...text.matchAll(/\(([A-Z]{2,5})\)/g)].map((m) => m[1]!).filter((t) => !shortForms.has(t)),
    ]),
  ];
  return { sentences, words, salience, phrases, abbreviations, tickers, sentenceScores };
}

function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)/)) {
    let start = 0;
    const flat = block.replace(/\s+/g, " ").trim();
    for (const match of flat.matchAll(/[.!?](?=\s+["'([]?[A-Z0-9])/g)) {
      const end = match.index + 1;
      const before = flat.slice(start, match.index).split(" ").pop()?.toLowerCase() ?? "";
      if (abbreviationsBeforePeriod.has(before.replace(/^\(/, "")) || /^[a-z]$/i.test(before)) continue;
      out.push(flat.slice(start, end).trim());
      start = end;
    }
    const rest = flat.slice(start).trim();
    if (rest !== "") out.push(rest);
  }
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s));
}

/** Words keep inner punctuation that carries meaning: IL-6, 3.5, p<0.05, U.S., $AAPL, 25%. */
function tokenize(sentence: string): string[] {
  return [...sentence.matchAll(/\$?[\p{L}\p{N}](?:[\p{L}\p{N}'’.%/+-]*[\p{L}\p{N}%])?|[,;:()]/gu)].map((m) => m[0]);
}

function isStop(token: string, lower: string): boolean {
  if (/^[,;:()]$/.test(token)) return true;
  if (stopWords.has(lower) || verbWords.has(lower) || presentVerbs.has(lower) || pastVerbs.has(lower) || baseVerbs.has(lower)) return true;
  // Adverbs rarely make good key phrases ("significantly", "strongly").
  if (lower.length > 4 && lower.endsWith("ly") && !/^[A-Z]/.test(token)) return true;
  return lower.length < 2 && !/\d/.test(lower);
}

/** RAKE: runs of content words between stop words; words scored by degree / frequency, then by salience. */
function rakePhrases(sentences: string[][], words: Word[], salience: Map<string, number>): Phrase[] {
  const runs: { words: Word[]; sentence: number }[] = [];
  let current: Word[] = [];
  const flush = () => {
    if (current.length > 0) runs.push({ words: current, sentence: current[0]!.sentence });
    current = [];
  };
  let lastSentence = -1;
  for (const w of words) {
    if (w.sentence !== lastSentence) flush();
    lastSentence = w.sentence;
    // Figures are not topics ("grew 12%"); the figure questions use them.
    if (w.stop || /^\$?\d/.test(w.text)) flush();
    else current.push(w);
  }
  flush();
  // Long runs are usually two phrases glued by a verb; keep their last four words (the head noun usually ends an English noun phrase).
  const trimmed = runs
    .map((r) => {
      let phrase = r.words;
      // English noun phrases end in their noun: a trailing participle ("sequence enabled") belongs to the verb after it.
      while (phrase.length > 1 && /^[a-z]+(?:ed|ing)$/.test(phrase[phrase.length - 1]!.text)) phrase = phrase.slice(0, -1);
      while (phrase.length > 1 && /^[a-z]+ed$/.test(phrase[0]!.text)) phrase = phrase.slice(1);
      return { sentence: r.sentence, words: phrase.slice(-4) };
    })
    .filter((r) => r.words.length > 0);
  const frequency = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const run of trimmed) {
    for (const w of run.words) {
      frequency.set(w.lower, (frequency.get(w.lower) ?? 0) + 1);
      degree.set(w.lower, (degree.get(w.lower) ?? 0) + run.words.length);
    }
  }
  const byText = new Map<string, Phrase>();
  for (const run of trimmed) {
    const text = run.words.map((w) => w.text).join(" ");
    const key = text.toLowerCase();
    const score = run.words.reduce(
      (sum, w) => sum + (degree.get(w.lower)! / frequency.get(w.lower)!) * 0.5 + (salience.get(w.lower) ?? 0),
      0,
    );
    const existing = byText.get(key);
    if (existing) existing.score += score * 0.5;
    else if (!looksLikeVerbPhrase(run.words)) byText.set(key, { words: run.words.map((w) => w.text), text, score, sentence: run.sentence });
  }
  void sentences;
  return [...byText.values()].sort((a, b) => b.score - a.score || a.text.localeCompare(b.text));
}

/** A lone past-tense or -ing word ("increased", "using") is a verb, not a topic. */
function looksLikeVerbPhrase(words: Word[]): boolean {
  if (words.length !== 1) return false;
  const w = words[0]!;
  // One short plain word is rarely a topic; a name, acronym or term with digits is.
  if (/^[a-z]{1,4}$/.test(w.text)) return true;
  return /^[a-z]+(?:ed|ing)$/.test(w.text) || w.text.length < 3;
}

function longFormFor(candidate: string, short: string): string | undefined {
  // Walk back from the parenthesis until the long form's initials spell the abbreviation
  // (inner stop words skipped, hyphenated parts counted: "allele-specific methylation" -> ASM).
  const words = candidate.split(/\s+/);
  const letters = short.replace(/[^A-Za-z]/g, "").toLowerCase();
  for (let take = 1; take <= Math.min(words.length, letters.length + 2); take++) {
    const slice = words.slice(-take);
    if (stopWords.has(slice[0]!.toLowerCase())) continue;
    const content = slice.filter((w) => !stopWords.has(w.toLowerCase()));
    const plain = content.map((w) => w[0]!.toLowerCase()).join("");
    const split = content.flatMap((w) => w.split("-").filter(Boolean)).map((w) => w[0]!.toLowerCase()).join("");
    if (plain === letters || split === letters) return slice.join(" ");
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Query makers. Each returns undefined when the chunk offers nothing of its kind.

type Random = () => number;

function pickWeighted<T>(items: readonly T[], weight: (item: T) => number, random: Random): T | undefined {
  const weights = items.map((item) => Math.max(weight(item), 0));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}

/** Inverse Cloze Task: a salient sentence, cleaned of discourse markers and cropped to query length. */
function claimQuery(a: Analysis, random: Random): string | undefined {
  const s = pickWeighted(a.sentences.map((_, i) => i), (i) => a.sentenceScores[i]! ** 2, random);
  if (s === undefined) return undefined;
  let sentence = detokenize(a.sentences[s]!);
  for (let pass = 0; pass < 3; pass++) for (const marker of discourseMarkers) sentence = sentence.replace(marker, "");
  sentence = sentence.replace(/[.;:,\s]+$/, "");
  const tokens = sentence.split(" ");
  if (tokens.filter((t) => !isStop(t, t.toLowerCase())).length < 3) return undefined;
  const cropped = tokens.length > maxQueryWords ? bestWindow(tokens, maxQueryWords, a, random) : tokens;
  return capitalise(cropped.join(" "));
}

/** Contriever-style random crop: a short contiguous span that starts and ends on content words. */
function cropQuery(a: Analysis, random: Random): string | undefined {
  const content = a.words.filter((w) => !w.stop);
  if (content.length < 4) return undefined;
  const length = 5 + Math.floor(random() * 8);
  const sentence = pickWeighted(a.sentences.map((_, i) => i), (i) => a.sentences[i]!.length, random)!;
  const tokens = a.sentences[sentence]!.filter((t) => !/^[,;:()]$/.test(t));
  if (tokens.length < 4) return undefined;
  const start = Math.floor(random() * Math.max(tokens.length - length + 1, 1));
  let span = tokens.slice(start, start + length);
  while (span.length > 0 && isStop(span[0]!, span[0]!.toLowerCase())) span = span.slice(1);
  while (span.length > 0 && isStop(span[span.length - 1]!, span[span.length - 1]!.toLowerCase())) span = span.slice(0, -1);
  if (span.filter((t) => !isStop(t, t.toLowerCase())).length < 3) return undefined;
  return span.join(" ");
}

/** A search-box query: the chunk's top key phrases, as people type them. */
function keywordQuery(a: Analysis, random: Random): string | undefined {
  const top = a.phrases.slice(0, 8);
  if (top.length < 2) return undefined;
  const chosen = new Set<Phrase>();
  const want = Math.min(2 + Math.floor(random() * 2), top.length);
  for (let guard = 0; chosen.size < want && guard < 20; guard++) {
    const p = pickWeighted(top, (x) => (chosen.has(x) ? 0 : x.score), random);
    if (p) chosen.add(p);
  }
  const words = [...new Map([...chosen].flatMap((p) => p.words).map((w) => [w.toLowerCase(), w])).values()];
  return words.length >= 2 ? words.join(" ") : undefined;
}

const questionTemplates: readonly ((x: string, y: string | undefined) => string | undefined)[] = [
  (x) => `What is ${x}?`,
  (x, y) => (y ? `How does ${x} affect ${y}?` : undefined),
  (x, y) => (y ? `What is the role of ${x} in ${y}?` : `What is the role of ${x}?`),
  (x, y) => (y ? `How is ${x} related to ${y}?` : undefined),
  (x) => `What is known about ${x}?`,
  (x, y) => (y ? `What effect does ${x} have on ${y}?` : undefined),
  (x) => `Why does ${x} matter?`,
];

/** Template questions over key phrases, abbreviations, tickers and reported figures. */
function keyPhraseQuestion(a: Analysis, random: Random): string | undefined {
  const roll = random();
  if (a.abbreviations.length > 0 && roll < 0.2) {
    const abbr = a.abbreviations[Math.floor(random() * a.abbreviations.length)]!;
    return random() < 0.5 ? `What does ${abbr.short} stand for?` : `What is ${abbr.long} (${abbr.short})?`;
  }
  if (a.tickers.length > 0 && roll < 0.4) {
    const ticker = a.tickers[Math.floor(random() * a.tickers.length)]!;
    return random() < 0.5 ? `What happened to ${ticker}?` : `How did ${ticker} perform?`;
  }
  if (roll < 0.55) {
    const figure = figureQuestion(a, random);
    if (figure) return figure;
  }
  const top = a.phrases.slice(0, 10);
  const x = pickWeighted(top, (p) => p.score, random);
  if (!x) return undefined;
  // A partner from the same sentence makes a relational question the chunk actually answers.
  const partners = a.phrases.filter((p) => p !== x && p.sentence === x.sentence && !overlaps(p, x));
  const y = pickWeighted(partners.slice(0, 6), (p) => p.score, random);
  const template = questionTemplates[Math.floor(random() * questionTemplates.length)]!;
  return template(x.text, y?.text) ?? `What is ${x.text}?`;
}

const unitPattern = /^(?:%|percent|mg|g|kg|ml|l|mm|cm|km|m|h|hours?|days?|weeks?|months?|years?|minutes?|seconds?|s|fold|times|patients|subjects|participants|cases|people|million|billion|thousand|usd|eur|dollars?|points?|bps|x)$/i;

/** "a response rate of 45%" -> "What was the response rate?"; "rose 3%" keeps its subject phrase. */
function figureQuestion(a: Analysis, random: Random): string | undefined {
  const figures: { sentence: number; index: number }[] = [];
  a.sentences.forEach((tokens, s) =>
    tokens.forEach((t, i) => {
      if (/\d/.test(t) && (/%$/.test(t) || unitPattern.test(tokens[i + 1] ?? "") || /^\$\d/.test(t))) figures.push({ sentence: s, index: i });
    }),
  );
  const figure = figures[Math.floor(random() * figures.length)];
  if (!figure) return undefined;
  const tokens = a.sentences[figure.sentence]!;
  // The phrase the figure measures usually sits just before it: "<phrase> of|was|were|to|by <figure>".
  let end = figure.index - 1;
  while (end >= 0 && /^(?:of|was|were|is|are|to|by|at|reached|approximately|about|nearly|only|over|under|than|rose|fell|increased|decreased|in)$/i.test(tokens[end]!)) end--;
  const phraseWords: string[] = [];
  for (let i = end; i >= 0 && phraseWords.length < 4; i--) {
    if (isStop(tokens[i]!, tokens[i]!.toLowerCase())) break;
    phraseWords.unshift(tokens[i]!);
  }
  if (!phraseWords.some((w) => /^[\p{L}][\p{L}-]{2,}$/u.test(w))) return undefined;
  while (/\d/.test(phraseWords[0]!)) phraseWords.shift();
  const measured = phraseWords.join(" ");
  const context = a.phrases.find((p) => p.sentence === figure.sentence && !p.text.includes(measured) && !measured.includes(p.text));
  return context ? `What was the ${measured} for ${context.text}?` : `What was the ${measured}?`;
}

const relationVerbs: readonly [RegExp, (subject: string, object: string, plural: boolean) => string][] = [
  [/^(?:is|are)\s+(?:\w+ly\s+)?(associated with|linked to|related to|correlated with|required for|involved in|necessary for|sufficient for|responsible for|essential for|critical for|important for)\b/i,
    (s, o, plural) => `${plural ? "Are" : "Is"} ${s} ${o}?`],
  [/^(?:was|were)\s+(?:\w+ly\s+)?(associated with|linked to|related to|correlated with|required for|involved in|higher|lower|increased|decreased|reduced|elevated)\b/i,
    (s, o, plural) => `${plural ? "Were" : "Was"} ${s} ${o}?`],
];

const presentVerbs = new Map([
  ["increases", "increase"], ["decreases", "decrease"], ["reduces", "reduce"], ["inhibits", "inhibit"], ["induces", "induce"],
  ["causes", "cause"], ["prevents", "prevent"], ["promotes", "promote"], ["improves", "improve"], ["regulates", "regulate"],
  ["activates", "activate"], ["suppresses", "suppress"], ["enhances", "enhance"], ["predicts", "predict"], ["affects", "affect"],
  ["requires", "require"], ["mediates", "mediate"], ["impairs", "impair"], ["blocks", "block"], ["drives", "drive"],
  ["lowers", "lower"], ["raises", "raise"], ["correlates", "correlate"], ["contributes", "contribute"], ["leads", "lead"],
  ["protects", "protect"], ["triggers", "trigger"], ["limits", "limit"], ["controls", "control"], ["modulates", "modulate"],
  ["outperforms", "outperform"], ["depends", "depend"], ["boosts", "boost"], ["hurts", "hurt"], ["lifts", "lift"],
]);
const baseVerbs = new Set(presentVerbs.values());
const pastVerbs = new Map(
  [...presentVerbs.values()].map((base) => [base.endsWith("e") ? `${base}d` : base === "lead" ? "led" : base === "drive" ? "drove" : `${base}ed`, base]),
);

/** "A increases B" -> "Does A increase B?"; "A was associated with B" -> "Was A associated with B?". */
function yesNoQuestion(a: Analysis, random: Random): string | undefined {
  const candidates: { sentence: number; index: number }[] = [];
  a.sentences.forEach((tokens, s) =>
    tokens.forEach((t, i) => {
      const lower = t.toLowerCase();
      // A base form counts only after a plural noun ("rates reduce"), where it is the verb, not a noun ("an increase").
      const pluralVerb = baseVerbs.has(lower) && /^[a-z]{3,}s$/i.test(tokens[i - 1] ?? "");
      if (i > 0 && (presentVerbs.has(lower) || pastVerbs.has(lower) || pluralVerb || /^(?:is|are|was|were)$/.test(lower))) {
        candidates.push({ sentence: s, index: i });
      }
    }),
  );
  for (let tries = 0; tries < 4 && candidates.length > 0; tries++) {
    const c = candidates[Math.floor(random() * candidates.length)]!;
    const tokens = a.sentences[c.sentence]!;
    const subject = clauseBefore(tokens, c.index);
    if (!subject) continue;
    const lower = tokens[c.index]!.toLowerCase();
    const rest = tokens.slice(c.index + 1);
    if (presentVerbs.has(lower) || pastVerbs.has(lower) || baseVerbs.has(lower)) {
      const object = clauseAfter(rest);
      if (!object) continue;
      const base = presentVerbs.get(lower) ?? pastVerbs.get(lower) ?? lower;
      const aux = pastVerbs.has(lower) ? "Did" : baseVerbs.has(lower) ? "Do" : "Does";
      return `${aux} ${subject} ${base} ${object}?`;
    }
    const tail = detokenize(tokens.slice(c.index));
    for (const [pattern, build] of relationVerbs) {
      const match = tail.match(pattern);
      if (!match) continue;
      const object = clauseAfter(tail.slice(match[0].length).trim().split(" "));
      if (!object) continue;
      const plural = /^(?:are|were)$/i.test(lower);
      return build(subject, `${match[1]} ${object}`, plural);
    }
  }
  return undefined;
}

function clauseBefore(tokens: string[], index: number): string | undefined {
  const words: string[] = [];
  let first = index;
  for (let i = index - 1; i >= 0 && words.length < 9; i--) {
    const t = tokens[i]!;
    if (/^[,;:()]$/.test(t) || /^(?:that|which|who|whereas|while|because|although|and|but|we|our|these|this|it|here)$/i.test(t)) break;
    words.unshift(t);
    first = i;
  }
  while (words.length > 0 && /^(?:the|a|an)$/i.test(words[0]!)) {
    words.shift();
    first++;
  }
  const last = words[words.length - 1];
  // A subject ends in a noun, not in "of" or a verb: anything else means the clause was misread.
  if (last === undefined || isStop(last, last.toLowerCase()) || /^[a-z]+(?:ing|ed)$/.test(last)) return undefined;
  if (words.filter((w) => !isStop(w, w.toLowerCase())).length < 1 || /^[a-z]+(?:ing|ed)$/.test(words[0]!)) return undefined;
  // A capital that only marks the start of the sentence is dropped mid-question.
  if (first === 0 && /^[A-Z][a-z]+$/.test(words[0]!)) words[0] = words[0]!.toLowerCase();
  return detokenize(words);
}

function clauseAfter(tokens: string[]): string | undefined {
  const words: string[] = [];
  for (const t of tokens) {
    if (/^[,;:()]$/.test(t) || /^(?:which|whereas|while|because|although|but)$/i.test(t) || words.length >= 10) break;
    words.push(t.replace(/[.;:,]+$/, ""));
  }
  while (words.length > 0 && isStop(words[words.length - 1]!, words[words.length - 1]!.toLowerCase())) words.pop();
  if (words.filter((w) => !isStop(w, w.toLowerCase())).length < 1) return undefined;
  return detokenize(words);
}

// ---------------------------------------------------------------------------
// Small helpers.

/** The window of `size` tokens with the most salient content, ties broken at random. */
function bestWindow(tokens: string[], size: number, a: Analysis, random: Random): string[] {
  let best = 0;
  let bestScore = -Infinity;
  for (let start = 0; start + size <= tokens.length; start++) {
    const window = tokens.slice(start, start + size);
    // The sentence's own start reads best; a window starting mid-clause must earn its place.
    const startBonus = start === 0 ? 2 : /[,;:]$/.test(tokens[start - 1]!) ? 1 : 0;
    const score = window.reduce((sum, t) => sum + (a.salience.get(t.toLowerCase().replace(/[.,;:()]+$/, "")) ?? 0), 0) + startBonus + random() * 0.5;
    if (score > bestScore) {
      bestScore = score;
      best = start;
    }
  }
  return cropWords(tokens, best, size);
}

function cropWords(tokens: string[], start: number, size: number): string[] {
  let span = tokens.slice(start, start + size);
  // Never end inside a parenthesis: "... in preterm (n" loses the "(n".
  const open = span.findLastIndex((t) => t.includes("("));
  if (open > 0 && !span.slice(open).some((t) => t.includes(")"))) span = span.slice(0, open);
  while (span.length > 1 && isStop(span[span.length - 1]!.replace(/[.,;:]+$/, ""), span[span.length - 1]!.toLowerCase())) span = span.slice(0, -1);
  return span;
}

function overlaps(p: Phrase, q: Phrase): boolean {
  const words = new Set(p.words.map((w) => w.toLowerCase()));
  return q.words.some((w) => words.has(w.toLowerCase()));
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

function detokenize(tokens: string[]): string {
  return tokens
    .join(" ")
    .replace(/\s+([,;:)])/g, "$1")
    .replace(/\(\s+/g, "(")
    .trim();
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
