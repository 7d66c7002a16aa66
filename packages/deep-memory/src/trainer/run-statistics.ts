import type { TrainingPair, TrainingRun } from "../domain/run.js";
import { stableUnit } from "../evaluation/split.js";
import type { Distribution, RunStatistics } from "../domain/views.js";

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { min: 0, max: 0, mean: 0, median: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
  };
}

export function runStatistics(run: TrainingRun, pairs: readonly TrainingPair[]): RunStatistics {
  const perChunk = new Map<string, number>();
  for (const pair of pairs) perChunk.set(pair.chunkId, (perChunk.get(pair.chunkId) ?? 0) + 1);
  return {
    pairCount: pairs.length,
    chunksWithPairs: perChunk.size,
    pairsPerChunk: distribution([...perChunk.values()]),
    questionLength: distribution(pairs.map((p) => p.question.length)),
    duplicatesRemoved: run.duplicatesRemoved,
    chunksSkipped: run.skippedChunks,
    chunksAlreadyCovered: run.existingChunks,
    capReached: run.capReached,
  };
}

const questionWords = new Set("what how why when where which who whom whose is are does do did can could should would will was were has have".split(" "));
/** Words a phrase cut from a sentence tends to end on ("... the sum of price times the"). */
const danglingWords = new Set("the a an of to and or at in on for with by from as than but not is are was were be its their this that which".split(" "));

/**
 * How well-formed a training question reads, for picking the ones a reviewer
 * sees: a sentence or question (capital first, question mark or a content
 * word last, 4 to 20 words) scores high; a fragment cut from a chunk ("price
 * the sum of price times", "percentage Trailing stops") scores low. Cheap and
 * language-agnostic enough for English pseudo-queries and LLM questions alike.
 */
export function questionQuality(question: string): number {
  const text = question.trim();
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length === 0) return -10;
  let score = 0;
  const first = text[0]!;
  if (/\p{Lu}|\p{N}/u.test(first)) score += 2;
  else if (/\p{Ll}/u.test(first)) score -= 2;
  const last = words.at(-1)!.toLowerCase().replace(/[?.!]+$/, "");
  if (text.endsWith("?")) {
    score += 2;
    if (questionWords.has(words[0]!.toLowerCase())) score += 1;
  } else if (/[,;:\-–(]$/.test(text) || danglingWords.has(last)) score -= 2;
  if (words.length < 3) score -= 3;
  else if (words.length === 3) score -= 1;
  else if (words.length <= 20) score += 1;
  else score -= 1;
  // A capitalised word glued after a lowercase one with no punctuation between marks two fragments run together.
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (/^\p{Lu}\p{Ll}/u.test(word) && /\p{Ll}$/u.test(words[i - 1]!)) score -= 1;
    if (word.toLowerCase() === words[i - 1]!.toLowerCase()) score -= 1;
  }
  const opens = (text.match(/\(/g) ?? []).length;
  const closes = (text.match(/\)/g) ?? []).length;
  if (opens !== closes || (text.match(/"/g) ?? []).length % 2 === 1) score -= 1;
  return score;
}

/**
 * The pairs a reviewer sees: the best-formed questions (by questionQuality),
 * best first; among equally good ones, chunks not shown yet come first, so
 * the sample spreads over the run; remaining ties go by a stable draw. The
 * same pairs always give the same sample.
 */
export function samplePairs(pairs: readonly TrainingPair[], size: number, seed: number): TrainingPair[] {
  const ranked = pairs
    .map((pair) => ({ pair, score: questionQuality(pair.question), key: stableUnit(pair.id, seed) }))
    .sort((a, b) => b.score - a.score || a.key - b.key);
  const picked: TrainingPair[] = [];
  const shownChunks = new Set<string>();
  for (let start = 0; start < ranked.length && picked.length < size; ) {
    let end = start;
    while (end < ranked.length && ranked[end]!.score === ranked[start]!.score) end++;
    // Within one score: one entry per chunk not shown yet, then the others.
    const fresh: typeof ranked = [];
    const rest: typeof ranked = [];
    const firstOfChunk = new Set<string>();
    for (const entry of ranked.slice(start, end)) {
      const chunk = entry.pair.chunkId;
      if (shownChunks.has(chunk) || firstOfChunk.has(chunk)) rest.push(entry);
      else {
        firstOfChunk.add(chunk);
        fresh.push(entry);
      }
    }
    for (const entry of [...fresh, ...rest]) {
      if (picked.length >= size) break;
      picked.push(entry.pair);
      shownChunks.add(entry.pair.chunkId);
    }
    start = end;
  }
  return picked;
}
