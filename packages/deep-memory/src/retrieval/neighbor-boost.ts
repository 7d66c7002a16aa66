import { matmulTransB } from "@zip/deep-memory-engine";
import type { Fusion } from "@zip/deep-memory-protocol";
import type { VectorStore } from "../ports/vector-store.js";
import { normalize } from "../evaluation/vector-math.js";
import { denseOnly } from "./fusion.js";
import type { RankedHit } from "./fusion.js";

export type Neighbors = NonNullable<Extract<Fusion, { method: "weighted" }>["neighbors"]>;

/** The fusion's neighbour boost, if it has one. */
export function neighborsOf(fusion: Fusion): Neighbors | undefined {
  return fusion.method === "weighted" ? fusion.neighbors : undefined;
}

/** The fusion without its neighbour boost: what a store without `getEmbeddings` can search. */
export function withoutNeighbors(fusion: Fusion): Fusion {
  if (fusion.method !== "weighted" || !fusion.neighbors) return fusion;
  const { neighbors: _dropped, ...rest } = fusion;
  return rest;
}

/**
 * What a search with `fusion` runs on this store (as `fusedSearch` does): a
 * hybrid fusion needs keyword search (`textSearch`), else dense search only;
 * a neighbour boost needs the chunks' embeddings (`getEmbeddings`), else it
 * is left out.
 */
export function applicableFusion(fusion: Fusion, vectorStore: VectorStore): Fusion {
  if (fusion.method !== "dense" && !vectorStore.textSearch) return denseOnly;
  return vectorStore.getEmbeddings ? fusion : withoutNeighbors(fusion);
}

/**
 * Fused hits (best first, fused scores) with the top `pool` re-scored: each
 * gains `weight` x the cosine-weighted mean of its `count` most similar pool
 * members' scores, all min-max scaled over the pool; hits below the pool keep
 * their order after it (scaled the same way, so at most 0). A hit without a
 * vector neither gains nor lends. Returns new objects carrying the new score.
 */
export function boostByNeighbors<T extends RankedHit>(hits: readonly T[], neighbors: Neighbors, vectorOf: (id: string) => Float32Array | undefined): T[] {
  const pool = hits.slice(0, neighbors.pool);
  if (pool.length < 2) return [...hits];
  const min = Math.min(...pool.map((h) => h.score));
  const range = Math.max(...pool.map((h) => h.score)) - min;
  const scale = (score: number) => (range > 0 ? (score - min) / range : 1);
  const scaled = pool.map((h) => scale(h.score));
  const n = pool.length;
  // The pool's vectors packed unit-length (norms divided out, whatever the store keeps), so one matrix product on the
  // engine's SIMD kernel gives every cosine; a hit without a vector (or of another size) is left out of comparisons.
  const given = pool.map((h) => vectorOf(h.id));
  const dims = given.find((v) => v !== undefined)?.length ?? 0;
  const has = given.map((v) => v !== undefined && v.length === dims && dims > 0);
  const flat = new Float32Array(n * dims);
  given.forEach((v, a) => {
    if (!has[a]) return;
    flat.set(v!, a * dims);
    normalize(flat.subarray(a * dims, (a + 1) * dims));
  });
  const cosines = new Float32Array(n * n);
  if (dims > 0) matmulTransB(flat, flat, n, n, dims, cosines);
  // Each hit's `count` most similar others, kept in small sorted arrays (no per-pair allocation).
  const count = Math.min(neighbors.count, n - 1);
  const nearIdx = new Int32Array(count);
  const nearSim = new Float64Array(count);
  const boosted = pool.map((hit, a) => {
    if (!has[a]) return { hit, score: scaled[a]!, order: a };
    let kept = 0;
    for (let b = 0; b < n; b++) {
      if (b === a || !has[b]) continue;
      const c = cosines[a * n + b]!;
      if (kept === count && c <= nearSim[count - 1]!) continue;
      let at = kept < count ? kept++ : count - 1;
      while (at > 0 && nearSim[at - 1]! < c) {
        nearSim[at] = nearSim[at - 1]!;
        nearIdx[at] = nearIdx[at - 1]!;
        at--;
      }
      nearSim[at] = c;
      nearIdx[at] = b;
    }
    let num = 0;
    let den = 0;
    for (let j = 0; j < kept; j++) {
      // A dissimilar (negative-cosine) chunk says nothing about this one's subject: it lends nothing.
      const c = nearSim[j]!;
      if (c <= 0) continue;
      num += c * scaled[nearIdx[j]!]!;
      den += c;
    }
    return { hit, score: scaled[a]! + neighbors.weight * (den > 0 ? num / den : 0), order: a };
  });
  boosted.sort((x, y) => y.score - x.score || x.order - y.order);
  return [...boosted.map(({ hit, score }) => ({ ...hit, score })), ...hits.slice(neighbors.pool).map((hit) => ({ ...hit, score: Math.min(0, scale(hit.score)) }))];
}
