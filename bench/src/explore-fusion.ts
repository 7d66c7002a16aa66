/**
 * Fusion of any number of legs for the exploration scripts (a third leg beside
 * the dense and keyword legs): rejected experiments, so kept out of the SDK's
 * fusion.ts. No keyword-leg anchor: every leg here is read to full depth.
 */
import type { SearchHit } from "@zip/deep-memory";
import { copiedQuestionsFusion, withoutNeighbors } from "@zip/deep-memory/retrieval";
import { legDepth } from "./retrieval-eval.js";

/**
 * The z-score weighted sum 1/1, top 100 per leg: copiedQuestionsFusion without the neighbour boost it gained later,
 * the fusion the exploration scripts' earlier measurements were made with.
 */
export const zScore11 = withoutNeighbors(copiedQuestionsFusion);

function zscores(hits: readonly SearchHit[]): Map<string, number> {
  const s = hits.map((h) => h.score);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  const sd = Math.sqrt(s.reduce((a, x) => a + (x - mean) ** 2, 0) / (s.length || 1));
  return new Map(hits.map((h) => [h.id, sd > 0 ? (h.score - mean) / sd : 0]));
}

/** z-score weighted sum over any number of legs; a chunk missing from a leg gets that leg's lowest. */
export function fuseMany(legs: { hits: readonly SearchHit[]; weight: number }[], depth = legDepth): string[] {
  const total = new Map<string, number>();
  const normalised = legs.map((l) => ({ z: zscores(l.hits.slice(0, depth)), weight: l.weight }));
  for (const { z } of normalised) for (const id of z.keys()) total.set(id, 0);
  for (const { z, weight } of normalised) {
    if (weight === 0) continue;
    const floor = z.size ? Math.min(...z.values()) : 0;
    for (const id of total.keys()) total.set(id, total.get(id)! + weight * (z.get(id) ?? floor));
  }
  return [...total.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
}
