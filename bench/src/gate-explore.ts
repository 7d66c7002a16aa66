/**
 * The LLM-free path's question memory (sentence pseudo-queries) pulled with
 * a fixed weight only where the query is close to some remembered sentence
 * (an absolute similarity gate), measured on dev questions (never on test)
 * with the z-score sum 1/1: claims that restate one sentence of their
 * abstract sit close to it, questions answered by a passage do not.
 *
 *   tsx --conditions=@zip/source bench/src/gate-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42]
 */
import { parseArgs } from "node:util";
import type { MetricTable, QueryTransform } from "@zip/deep-memory";
import { englishTerms } from "@zip/deep-memory/retrieval";
import { zScore11 } from "./explore-fusion.js";
import { sharedFlags } from "./bench-options.js";
import { openExplore, pseudoQueryVectors, sentenceMemoryModel } from "./explore-data.js";
import { Legs, type QuerySet } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...sharedFlags,
    /** Drop this share of each pseudo-query's content words, rarest in the corpus first, before remembering it (0: none). */
    "strip-rare": { type: "string", default: "0" },
    /** Remember each pseudo-query joined with the next one of the same chunk (windows of two sentences). */
    "sentence-pairs": { type: "boolean", default: false },
  },
});

/**
 * A sentence without its rarest content words (the ones keyword search finds
 * it by), so that what the memory remembers is what keyword search misses.
 */
function stripRare(text: string, share: number, documentFrequency: Map<string, number>): string {
  const words = text.split(/\s+/).filter(Boolean);
  const content = words.flatMap((w, i) => {
    const [term] = englishTerms(w);
    return term === undefined ? [] : [{ i, df: documentFrequency.get(term) ?? 0 }];
  });
  const drop = new Set(content.sort((a, b) => a.df - b.df).slice(0, Math.floor(content.length * share)).map((c) => c.i));
  return words.filter((_, i) => !drop.has(i)).join(" ");
}
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)}`;

interface MemoryHandle {
  memory: {
    setPull(weight: number, threshold?: number): void;
    lookup(queries: Float32Array, rows: number): { nearest: Float32Array };
  } | null;
}

function quantiles(xs: Float32Array, qs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return qs.map((q) => `p${q * 100}=${s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2)}`).join(" ");
}

async function main() {
  const { data, embedder, cacheDir, seed, explore, devIds } = await openExplore(positionals[0]!, values);
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const share = Number(values["strip-rare"]);
  const documentFrequency = new Map<string, number>();
  if (share > 0) for (const d of data.documents) for (const t of new Set(englishTerms(d.text))) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
  const { made, emb } = await pseudoQueryVectors(
    data,
    embedder,
    cacheDir,
    { style: "sentences", perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed },
    (m) => console.error(m),
    (pairs) => {
      const stripped = share > 0 ? pairs.map((p) => ({ ...p, question: stripRare(p.question, share, documentFrequency) })) : pairs;
      if (!values["sentence-pairs"]) return stripped;
      // Each pseudo-query joined with the next one of the same chunk (a chunk's last has none).
      return stripped.flatMap((p, i) => (stripped[i + 1]?.chunkId === p.chunkId ? [{ ...p, question: `${p.question} ${stripped[i + 1]!.question}` }] : []));
    },
  );
  if (values["sentence-pairs"]) console.log(`${data.name}: ${made.pairs.length} windows of two consecutive pseudo-queries`);
  if (share > 0) console.log(`${data.name}: pseudo-queries without their rarest ${share * 100}% content words, e.g. "${made.pairs[0]!.question}"`);
  // As the trainer with copied questions: every pseudo-query, memory only; the weight here is fixed afterwards.
  const { engine, model } = await sentenceMemoryModel(data, corpus, { made, emb }, seed, { memoryWeights: [0.25] });
  const sets: [string, QuerySet][] = [
    ["dev", querySet(devIds, devQrels)],
    ["test", querySet(testIds, data.qrels.test!)],
  ];
  const probe = engine.load(model) as unknown as MemoryHandle;
  if (!probe.memory) {
    // BoolQ: the memory did not beat plain search on the carved validation questions, so there is nothing to gate.
    console.log(`${data.name}: the model kept no question memory; nothing to gate`);
    return;
  }
  for (const [name, qs] of sets) {
    const flat = new Float32Array(qs.vectors.length * corpus.dims);
    qs.vectors.forEach((v, i) => flat.set(v, i * corpus.dims));
    console.log(`${data.name} ${name}: nearest remembered sentence, cosine ${quantiles(probe.memory.lookup(flat, qs.vectors.length).nearest, [0.1, 0.25, 0.5, 0.75, 0.9])}`);
  }
  const legs = await Promise.all(sets.map(async ([, qs]) => Legs.open(store, qs)));
  console.log(`\n${data.name}: ${devIds.length} dev, ${testIds.length} test; z-score 1/1 recall@10 / nDCG@10 (dev | test, test for the record only)`);
  console.log(`${"plain".padEnd(30)} | ${fmt(await legs[0]!.metrics(null, zScore11))} | ${fmt(await legs[1]!.metrics(null, zScore11))}`);
  for (const weight of [0.25, 0.5, 1]) {
    for (const threshold of [-Infinity, 0.5, 0.6, 0.7, 0.8]) {
      const transform = engine.load(model);
      (transform as unknown as MemoryHandle).memory!.setPull(weight, threshold);
      const t: QueryTransform = transform;
      console.log(`${`weight ${weight}, gate ${threshold}`.padEnd(30)} | ${fmt(await legs[0]!.metrics(t, zScore11))} | ${fmt(await legs[1]!.metrics(t, zScore11))}`);
    }
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
