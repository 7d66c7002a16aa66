import { ValidationError } from "../errors/errors.js";
import { ndcgAt } from "../evaluation/metrics.js";
import { defaultHybridFusion, denseOnly, fuseRankings, legDepth, type Fusion, type RankedHit } from "./fusion.js";
import { boostByNeighbors, neighborsOf } from "./neighbor-boost.js";
import { eventLoopYielder } from "../shared/event-loop.js";

/** Both legs' candidates for each question, best first, at least as deep as any fusion tried. */
export interface LegRankings {
  dense: readonly (readonly RankedHit[])[];
  /** Empty lists (or none at all) where the store has no keyword search. */
  lexical?: readonly (readonly RankedHit[])[];
  /** The chunks' embeddings, for fusions with a neighbour boost. */
  vectorOf?: (id: string) => Float32Array | undefined;
}

/**
 * The fusions tried on validation: plain hybrid's default first (it wins
 * ties), dense alone, then RRF and weighted sums over a small grid. Kept
 * small on purpose: a validation split of a few hundred questions cannot
 * tell dozens of near-identical settings apart, and every extra one is a
 * chance to fit its noise.
 */
export function fusionCandidates(): Fusion[] {
  const out: Fusion[] = [defaultHybridFusion, denseOnly];
  for (const depth of [100, 50]) {
    for (const [dense, lexical] of [[1, 1], [0.3, 0.7], [0.7, 0.3], [0.85, 0.15]] as const) {
      const weights = { dense, lexical };
      for (const k of [60, 30, 10]) out.push({ method: "rrf", k, weights, depth });
      for (const normalization of ["min-max", "z-score"] as const) out.push({ method: "weighted", normalization, weights, depth });
    }
  }
  const seen = new Set<string>();
  return out.filter((f) => !seen.has(JSON.stringify(f)) && seen.add(JSON.stringify(f)));
}

/**
 * The fusion searched with where the validation questions cannot choose one
 * because they are copied from their chunks (offline sentence pseudo-queries):
 * a z-score weighted sum, weights 1/1, top 100 per leg (plain hybrid's
 * depth), with a neighbour boost of 0.25 x the 3 most similar of the top 100.
 * Chosen on dev splits of real questions the offline path never sees, with
 * deep memory trained on sentence pseudo-queries (docs/hybrid-search.md):
 * recall@10 0.861 / 0.885 / 0.995 on SciFact (809 claims), fiqa648 (348
 * questions) and BoolQ (2,500); without the boost 0.854 / 0.876 / 0.993, and
 * with plain hybrid's RRF k=60 0.839 / 0.836 / 0.986.
 */
export const copiedQuestionsFusion: Fusion = {
  method: "weighted",
  normalization: "z-score",
  weights: { dense: 1, lexical: 1 },
  depth: 100,
  neighbors: { count: 3, weight: 0.25, pool: 100 },
};

/** The deepest leg any of these fusions reads (and at least k). */
export function candidateDepth(fusions: readonly Fusion[], k: number): number {
  return Math.max(k, ...fusions.map((f) => legDepth(f, k)));
}

/**
 * The ranked ids a search with `fusion` returns, as deep as `k`: the first
 * `depth` ranks are exactly what a live search with any k <= depth returns
 * (both legs read `depth` candidates), the rest come from fusing deeper legs.
 */
export function fusedRanking(
  dense: readonly RankedHit[],
  lexical: readonly RankedHit[],
  fusion: Fusion,
  k: number,
  vectorOf?: (id: string) => Float32Array | undefined,
): string[] {
  if (fusion.method === "dense") return dense.slice(0, k).map((h) => h.id);
  const neighbors = neighborsOf(fusion);
  if (neighbors) {
    // As a live search (fusedSearch): the fused top max(k, pool), its pool boosted, then the top k.
    if (!vectorOf) throw new ValidationError("fusedRanking: a fusion with a neighbour boost needs the chunks' embeddings (vectorOf)");
    const fused = fuseRankings(dense, lexical, fusion, Math.max(k, neighbors.pool));
    return boostByNeighbors(fused, neighbors, vectorOf)
      .slice(0, k)
      .map((h) => h.id);
  }
  const head = fuseRankings(dense, lexical, fusion, Math.min(k, fusion.depth)).map((h) => h.id);
  if (k <= fusion.depth) return head;
  const seen = new Set(head);
  for (const hit of fuseRankings(dense, lexical, fusion, k)) if (!seen.has(hit.id) && head.length < k) head.push(hit.id);
  return head;
}

export interface FusionScore {
  fusion: Fusion;
  recallAt10: number;
  ndcgAt10: number;
}

/**
 * Picks the fusion with the best mean of recall@10 and nDCG@10 over the
 * questions (queries without a relevant chunk are skipped), preferring the
 * earliest candidate that comes within half a question of the best. Where
 * the legs have no lexical candidates at all, only dense search is possible.
 */
export async function chooseFusion(input: LegRankings & { relevant: readonly ReadonlySet<string>[]; candidates?: readonly Fusion[] }): Promise<{
  fusion: Fusion;
  scores: FusionScore[];
}> {
  const hasLexical = input.lexical?.some((l) => l.length > 0) ?? false;
  const candidates = hasLexical ? (input.candidates ?? fusionCandidates()) : [denseOnly];
  // Scoring a few dozen fusions over the validation questions takes long enough to stall a server: yield between them.
  const yieldSometimes = eventLoopYielder();
  const scores: FusionScore[] = [];
  for (const fusion of candidates) {
    await yieldSometimes();
    scores.push(scoreFusion(fusion, input));
  }
  const questions = input.relevant.filter((r) => r.size > 0).length;
  const top = Math.max(...scores.map(objective));
  // Within half a question's worth of the best, the earliest (simplest) candidate is taken:
  // a difference that small on a few dozen questions is noise, not a better fusion.
  const margin = questions ? 0.5 / questions : 0;
  const chosen = scores.findIndex((s) => objective(s) >= top - margin - 1e-12);
  return { fusion: candidates[chosen]!, scores };
}

const objective = (s: FusionScore) => (s.recallAt10 + s.ndcgAt10) / 2;

function scoreFusion(fusion: Fusion, input: LegRankings & { relevant: readonly ReadonlySet<string>[] }): FusionScore {
  let recall = 0;
  let ndcg = 0;
  let n = 0;
  input.dense.forEach((dense, q) => {
    const relevant = input.relevant[q];
    if (!relevant || relevant.size === 0) return;
    const ranking = fusedRanking(dense, input.lexical?.[q] ?? [], fusion, 10, input.vectorOf);
    recall += ranking.filter((id) => relevant.has(id)).length / relevant.size;
    ndcg += ndcgAt(ranking, relevant, 10);
    n++;
  });
  return { fusion, recallAt10: n ? recall / n : 0, ndcgAt10: n ? ndcg / n : 0 };
}
