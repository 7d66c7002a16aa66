/**
 * Pseudo-relevance feedback (Rocchio) for the dense leg, measured on the dev
 * split of real questions (every training question the LLM-free path never
 * sees, plus the data set's own dev split), beside the plain rows; test
 * figures printed for the record only. LLM-free and training-free: the query
 * embedding q (after the deep-memory transform, for the model rows) becomes
 * normalize(q + beta * mean of the first round's top-k fused chunks), the dense
 * leg is searched again with it and fused with the unchanged keyword leg.
 * With --rm3, the keyword query is expanded instead (RM3-style): the query
 * repeated `repeat` times (its weight) plus the `terms` best stems of the
 * first round's top-k chunks (share of the chunk times idf), the dense leg unchanged.
 * With --rm3-legs, the expanded keyword query is a third leg beside the
 * original one (z-score weighted sum of the three legs, dense weight 1).
 * The model rows train LocalDeepMemory on the sentence pseudo-queries as the
 * trainer does for copied questions (nothing held back, memory only).
 * Results and the decision: docs/hybrid-search.md ("Pseudo-relevance feedback").
 *
 *   tsx --conditions=@zip/source bench/src/prf-explore.ts <beir-dir> [--seed 42] [--no-model] [--z-only]
 *       [--rm3 [--rm3-grid '{"k":[3,10],"repeat":[1,2],"terms":[5,10]}'] [--rm3-legs]]
 *
 * Embeddings come from the bench's cache (the same keys as pseudo-explore.ts).
 */
import { parseArgs } from "node:util";
import type { Fusion, QueryTransform, SearchHit } from "@zip/deep-memory";
import { retrievalMetrics } from "@zip/deep-memory/evaluation";
import { describeFusion, englishTerms, fusedRanking } from "@zip/deep-memory/retrieval";
import { openExplore, pseudoQueryVectors, sentenceMemoryModel } from "./explore-data.js";
import { fuseMany, zScore11 } from "./explore-fusion.js";
import { defaultHybridFusion, Legs, legDepth, topK } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: "42" },
    "cache-dir": { type: "string", default: ".cache/bench" },
    "no-model": { type: "boolean", default: false },
    /** Only the z-score rows (RRF PRF loses everywhere; halves the run). */
    "z-only": { type: "boolean", default: false },
    /** RM3-style rows instead: the keyword query expanded with the top terms of the first round's top-k chunks. */
    rm3: { type: "boolean", default: false },
    /** The RM3 grid as JSON: feedback chunks, query repeats (the original query's weight), expansion terms. */
    "rm3-grid": { type: "string", default: '{"k":[3,10],"repeat":[1,2],"terms":[5,10]}' },
    /** The expanded query as a third leg beside the original keyword leg, at each keyword / expanded weight pair of rm3LegWeights. */
    "rm3-legs": { type: "boolean", default: false },
  },
});
/** Keyword / expanded-query weights of the three-leg rows (dense 1). */
const rm3LegWeights = [[1, 0.25], [1, 0.5], [0.75, 0.25], [0.75, 0.5], [0.5, 0.5]] as const;
const log = (m: string) => console.error(`[prf ${new Date().toISOString().slice(11, 19)}] ${m}`);
const seed = Number(values.seed);

async function main() {
  // Dev: every training question (which the LLM-free path never sees) and the set's own dev split.
  const { data, embedder, cacheDir, explore, devIds } = await openExplore(positionals[0]!, { ...values, "dev-fraction": "1" });
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const docVector = new Map(data.documents.map((d, i) => [d.id, corpus.vectors[i]!]));
  const sets = { dev: await Legs.open(store, querySet(devIds, devQrels)), test: await Legs.open(store, querySet(testIds, data.qrels.test!)) };

  let transform: QueryTransform | null = null;
  if (!values["no-model"]) {
    const pseudo = await pseudoQueryVectors(data, embedder, cacheDir, { style: "sentences", perDoc: 10, maxPairs: 60000, seed }, log);
    const { model, transform: trained } = await sentenceMemoryModel(data, corpus, pseudo, seed);
    transform = trained;
    log(`trained: memory ${JSON.stringify(model.report.questionMemory ?? null)}`);
  }

  const fmt = (m: Record<string, number>) => `${(m["recall@10"] ?? 0).toFixed(3)} / ${(m["ndcg@10"] ?? 0).toFixed(3)}`;
  const prf = async (legs: Legs, t: QueryTransform | null, first: Fusion, final: Fusion, beta: number, k: number) => {
    const dense = await legs.denseFor(t);
    const rankings: string[][] = [];
    for (let i = 0; i < dense.length; i++) {
      const top = fusedRanking(dense[i]!, legs.lexical[i]!, first, k);
      const q = t ? t.apply(legs.queries.vectors[i]!) : legs.queries.vectors[i]!;
      const next = Float32Array.from(q);
      for (const id of top) {
        const v = docVector.get(id)!;
        for (let j = 0; j < next.length; j++) next[j]! += (beta / top.length) * v[j]!;
      }
      let norm = 0;
      for (const x of next) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < next.length; j++) next[j]! /= norm;
      const again: SearchHit[] = await store.search({ userId: "bench", embedding: next, k: legDepth });
      rankings.push(fusedRanking(again, legs.lexical[i]!, final, legDepth));
    }
    return retrievalMetrics(rankings, legs.queries.relevant, topK).metrics;
  };

  // RM3-lite: stems weighted by their share of each feedback chunk times idf; a stem is appended as a surface word of it.
  const docTerms = new Map<string, Map<string, number>>();
  const df = new Map<string, number>();
  const surface = new Map<string, string>();
  for (const d of data.documents) {
    const tf = new Map<string, number>();
    for (const m of d.text.toLowerCase().matchAll(/[\p{L}\p{N}\p{M}_]+/gu)) {
      const stem = englishTerms(m[0])[0];
      if (!stem || m[0].length < 3 || /^\p{N}+$/u.test(m[0])) continue;
      tf.set(stem, (tf.get(stem) ?? 0) + 1);
      if (!surface.has(stem)) surface.set(stem, m[0]);
    }
    docTerms.set(d.id, tf);
    for (const stem of tf.keys()) df.set(stem, (df.get(stem) ?? 0) + 1);
  }
  const n = data.documents.length;
  const expand = (query: string, top: string[], repeat: number, terms: number) => {
    const own = new Set(englishTerms(query));
    const weight = new Map<string, number>();
    for (const id of top) {
      const tf = docTerms.get(id)!;
      let len = 0;
      for (const c of tf.values()) len += c;
      for (const [stem, c] of tf) if (!own.has(stem)) weight.set(stem, (weight.get(stem) ?? 0) + (c / len) * Math.log(1 + n / df.get(stem)!));
    }
    const best = [...weight].sort((a, b) => b[1] - a[1]).slice(0, terms).map(([stem]) => surface.get(stem)!);
    return [...Array<string>(repeat).fill(query), ...best].join(" ");
  };
  /** Recall@10 / nDCG@10 with the RM3 keyword query: instead of the original, or (`legWeights`) as a third leg beside it. */
  const rm3 = async (legs: Legs, t: QueryTransform | null, f: Fusion, k: number, repeat: number, terms: number, legWeights?: readonly [number, number]) => {
    const dense = await legs.denseFor(t);
    const rankings: string[][] = [];
    for (let i = 0; i < dense.length; i++) {
      const top = fusedRanking(dense[i]!, legs.lexical[i]!, f, k);
      const lexical = await store.textSearch!({ userId: "bench", query: expand(legs.queries.texts[i]!, top, repeat, terms), k: legDepth });
      rankings.push(
        legWeights
          ? fuseMany([{ hits: dense[i]!, weight: 1 }, { hits: legs.lexical[i]!, weight: legWeights[0] }, { hits: lexical, weight: legWeights[1] }])
          : fusedRanking(dense[i]!, lexical, f, legDepth),
      );
    }
    return retrievalMetrics(rankings, legs.queries.relevant, topK).metrics;
  };

  console.log(`\n${data.name}: ${devIds.length} dev questions, ${testIds.length} test; recall@10 / nDCG@10 (dev | test, test for the record only)`);
  const fusions: [string, Fusion][] = [
    ...(values["z-only"] ? [] : ([["RRF k=60", defaultHybridFusion]] as [string, Fusion][])),
    ["z-score 1/1", zScore11],
  ];
  for (const [who, t] of [["plain", null], ...(transform ? [["model", transform]] : [])] as [string, QueryTransform | null][]) {
    for (const [name, f] of fusions) console.log(`${`${who} + ${name}`.padEnd(60)} | ${fmt(await sets.dev.metrics(t, f))} | ${fmt(await sets.test.metrics(t, f))}`);
    if (values.rm3) {
      const grid = JSON.parse(values["rm3-grid"]) as { k: number[]; repeat: number[]; terms: number[] };
      for (const k of grid.k)
        for (const repeat of grid.repeat)
          for (const terms of grid.terms)
            for (const legWeights of values["rm3-legs"] ? rm3LegWeights : [undefined]) {
              const how = legWeights ? `3 legs z-score 1/${legWeights[0]}/${legWeights[1]}` : "z-score 1/1";
              const row = `${who} + RM3 k ${k} query x${repeat} + ${terms} terms + ${how}`;
              console.log(`${row.padEnd(60)} | ${fmt(await rm3(sets.dev, t, zScore11, k, repeat, terms, legWeights))} | ${fmt(await rm3(sets.test, t, zScore11, k, repeat, terms, legWeights))}`);
            }
      continue;
    }
    for (const [name, f] of fusions)
      for (const beta of [0.25, 0.5, 1])
        for (const k of [3, 5, 10]) {
          const row = `${who} + PRF beta ${beta} k ${k} + ${name}`;
          console.log(`${row.padEnd(60)} | ${fmt(await prf(sets.dev, t, f, f, beta, k))} | ${fmt(await prf(sets.test, t, f, f, beta, k))}`);
        }
  }
  log(`done (${describeFusion(zScore11)})`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
