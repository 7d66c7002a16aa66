import type { Fusion } from "@zip/deep-memory-protocol";

export { fusionSchema, type Fusion } from "@zip/deep-memory-protocol";

/** Plain hybrid search as commonly deployed (and measured by bm25s + dense RRF): k 60, equal weights, top 100 per leg. */
export const defaultHybridFusion: Fusion = Object.freeze({ method: "rrf", k: 60, weights: Object.freeze({ dense: 1, lexical: 1 }), depth: 100 });
export const denseOnly: Fusion = Object.freeze({ method: "dense" });

export interface RankedHit {
  id: string;
  score: number;
}

/** How many candidates each leg must return for `fuseRankings` to produce the top k. */
export function legDepth(fusion: Fusion, k: number): number {
  return fusion.method === "dense" ? k : Math.max(k, fusion.depth);
}

/**
 * The top k of two rankings (each best first) combined by `fusion`; the
 * returned hits are the legs' own objects (dense first where both have one)
 * with `score` replaced by the fused score. Ties keep the dense order, then
 * the lexical order, so results are deterministic.
 */
export function fuseRankings<T extends RankedHit>(dense: readonly T[], lexical: readonly T[], fusion: Fusion, k: number): T[] {
  if (fusion.method === "dense") return dense.slice(0, k);
  const depth = legDepth(fusion, k);
  const d = dense.slice(0, depth);
  const l = lexical.slice(0, depth);
  const { dense: wd, lexical: wl } = fusion.weights;
  const fused = new Map<string, { hit: T; score: number; order: number }>();
  const add = (hits: readonly T[], contribution: (i: number) => number, orderBase: number) => {
    hits.forEach((hit, i) => {
      const entry = fused.get(hit.id);
      if (entry) entry.score += contribution(i);
      else fused.set(hit.id, { hit, score: contribution(i), order: orderBase + i });
    });
  };
  if (fusion.method === "rrf") {
    const rd = tiedRanks(d);
    const rl = tiedRanks(l);
    add(d, (i) => wd / (fusion.k + rd[i]!), 0);
    add(l, (i) => wl / (fusion.k + rl[i]!), depth);
  } else {
    // A chunk missing from a leg scores that leg's floor. A keyword leg that returned fewer than `depth` hits returned
    // every chunk it matched, so the others scored 0 there (no query word); without that anchor a keyword leg finding
    // one chunk (an exact ticker or id) normalised to its own floor and lifted nothing. A dense leg's missing chunks
    // score below its lowest hit, not 0 (and a store may cut the leg short), so its floor is that hit.
    const { scores: nd, floor: floorD } = normalizeScores(d, fusion.normalization, false);
    const { scores: nl, floor: floorL } = normalizeScores(l, fusion.normalization, l.length < depth);
    add(d, (i) => wd * nd[i]!, 0);
    add(l, (i) => wl * nl[i]!, depth);
    const inD = new Set(d.map((h) => h.id));
    const inL = new Set(l.map((h) => h.id));
    for (const [id, entry] of fused) {
      if (!inD.has(id)) entry.score += wd * floorD;
      if (!inL.has(id)) entry.score += wl * floorL;
    }
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, k)
    .map(({ hit, score }) => ({ ...hit, score }));
}

/**
 * 1-based ranks where equal scores share the best rank of their group
 * ("1, 2, 2, 4"): a keyword leg that scores many chunks alike (one common
 * query word) says nothing about their order, and must not favour whichever
 * came first.
 */
function tiedRanks(hits: readonly RankedHit[]): number[] {
  const ranks: number[] = [];
  hits.forEach((hit, i) => ranks.push(i > 0 && hit.score === hits[i - 1]!.score ? ranks[i - 1]! : i + 1));
  return ranks;
}

/**
 * A leg's scores normalised per query, and the score of a chunk the leg did
 * not return: its lowest hit's, or, for an exhausted leg (`anchored`), a raw
 * score of 0, counted in the statistics once.
 */
function normalizeScores(hits: readonly RankedHit[], method: "min-max" | "z-score", anchored: boolean): { scores: number[]; floor: number } {
  if (!hits.length) return { scores: [], floor: 0 };
  const raw = hits.map((h) => h.score);
  const stats = anchored ? [...raw, 0] : raw;
  let scale: (s: number) => number;
  if (method === "min-max") {
    const min = Math.min(...stats);
    const range = Math.max(...stats) - min;
    scale = (s) => (range > 0 ? (s - min) / range : 1);
  } else {
    const mean = stats.reduce((a, b) => a + b, 0) / stats.length;
    const sd = Math.sqrt(stats.reduce((a, s) => a + (s - mean) ** 2, 0) / stats.length);
    scale = (s) => (sd > 0 ? (s - mean) / sd : 0);
  }
  const scores = raw.map(scale);
  return { scores, floor: anchored ? scale(0) : Math.min(...scores) };
}

/** Short human-readable form, for reasons and logs: "hybrid: RRF k=60, weights dense 1 / lexical 1, top 100 per leg". */
export function describeFusion(fusion: Fusion): string {
  if (fusion.method === "dense") return "dense search only";
  const tail = `weights dense ${fusion.weights.dense} / lexical ${fusion.weights.lexical}, top ${fusion.depth} per leg`;
  if (fusion.method === "rrf") return `hybrid: RRF k=${fusion.k}, ${tail}`;
  const boost = fusion.neighbors
    ? `, neighbour boost ${fusion.neighbors.weight} x ${fusion.neighbors.count} nearest in the top ${fusion.neighbors.pool}`
    : "";
  return `hybrid: ${fusion.normalization} weighted sum, ${tail}${boost}`;
}
