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

/** A stable sample spread over the whole run, not just its first chunks. */
export function samplePairs(pairs: readonly TrainingPair[], size: number, seed: number): TrainingPair[] {
  return [...pairs]
    .map((pair) => ({ pair, key: stableUnit(pair.id, seed) }))
    .sort((a, b) => a.key - b.key)
    .slice(0, size)
    .map((x) => x.pair);
}
