/**
 * A third search leg for the LLM-free path, measured on dev questions (never
 * on test): each chunk scored by its best-matching sentence pseudo-query
 * (max over the chunk's remembered sentences of cosine to the query), beside
 * the chunk's own embedding and keyword search. The question memory pulls
 * the query toward a few such chunks; a leg ranks every chunk by it.
 *
 *   tsx --conditions=@zip/source bench/src/sentence-leg-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42]
 *
 * Also a leg of the sentences that start past the embedder's window (256 word
 * pieces, WINDOW=...), which the chunk's own vector never saw.
 *
 * Embeddings come from the bench's cache (the same keys as pnpm bench).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { AutoTokenizer } from "@huggingface/transformers";
import type { MetricTable, SearchHit } from "@zip/deep-memory";
import { retrievalMetrics } from "@zip/deep-memory/evaluation";
import { fuseRankings } from "@zip/deep-memory/retrieval";
import { sharedFlags } from "./bench-options.js";
import { openExplore, pseudoQueryVectors } from "./explore-data.js";
import { fuseMany, zScore11 } from "./explore-fusion.js";
import { Legs, legDepth, topK, type QuerySet } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { ...sharedFlags } });
const log = (m: string) => console.error(`[sentence-leg ${new Date().toISOString().slice(11, 19)}] ${m}`);
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)}`;

type Leg = SearchHit[][];

/** Per query, chunks ranked by their best sentence's cosine (top `legDepth`). */
function sentenceLeg(queries: QuerySet, keys: Float32Array[], owner: Int32Array, ids: string[]): Leg {
  const d = keys[0]!.length;
  const flat = new Float32Array(keys.length * d);
  keys.forEach((k, i) => flat.set(k, i * d));
  const best = new Float32Array(ids.length);
  return queries.vectors.map((q) => {
    best.fill(-Infinity);
    for (let i = 0; i < keys.length; i++) {
      let s = 0;
      const o = i * d;
      for (let j = 0; j < d; j++) s += q[j]! * flat[o + j]!;
      const c = owner[i]!;
      if (s > best[c]!) best[c] = s;
    }
    const order = [...best.keys()].filter((c) => best[c]! > -Infinity).sort((a, b) => best[b]! - best[a]!).slice(0, legDepth);
    return order.map((c) => ({ id: ids[c]!, score: best[c]!, text: "" }));
  });
}

/** One dense leg from two: the chunk's own cosine and its best sentence's, mixed per chunk. */
function mixDense(doc: readonly SearchHit[], sent: readonly SearchHit[], mix: (doc: number, sent: number) => number): SearchHit[] {
  const ds = new Map(doc.map((h) => [h.id, h.score]));
  const ss = new Map(sent.map((h) => [h.id, h.score]));
  const floorD = doc.length ? doc[doc.length - 1]!.score : 0;
  const floorS = sent.length ? sent[sent.length - 1]!.score : 0;
  const ids = new Set([...ds.keys(), ...ss.keys()]);
  return [...ids]
    .map((id) => ({ id, text: "", score: mix(ds.get(id) ?? floorD, ss.get(id) ?? floorS) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, legDepth);
}

async function main() {
  const { data, embedder, cacheDir, seed, explore, devIds } = await openExplore(positionals[0]!, values);
  const { store, testIds, devQrels, querySet } = explore;
  const { made, emb } = await pseudoQueryVectors(data, embedder, cacheDir, { style: "sentences", perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed }, log);
  const ids = data.documents.map((d) => d.id);
  const row = new Map(ids.map((id, i) => [id, i]));
  const owner = Int32Array.from(made.pairs.map((p) => row.get(p.chunkId)!));
  log(`${made.pairs.length} sentences over ${made.documents} chunks`);
  // Which sentences start past the embedder's window (256 word pieces): the chunk's own vector never saw them.
  const tokenizer = await AutoTokenizer.from_pretrained(resolve(process.env.DEEP_MEMORY_MODEL_DIR ?? ".cache/models", "all-MiniLM-L6-v2"), { local_files_only: true });
  const text = new Map(data.documents.map((d) => [d.id, d.text]));
  const window = Number(process.env.WINDOW ?? 256) - 2;
  const tail = made.pairs.map((p) => {
    const doc = text.get(p.chunkId)!;
    const at = doc.indexOf(p.question.slice(0, 40));
    if (at <= 0) return false;
    return tokenizer.encode(doc.slice(0, at), { add_special_tokens: false }).length >= window;
  });
  log(`${tail.filter(Boolean).length} sentences start past the window`);
  const tailRows = tail.flatMap((t, i) => (t ? [i] : []));
  const tailKeys = tailRows.map((i) => emb.vectors[i]!);
  const tailOwner = Int32Array.from(tailRows.map((i) => owner[i]!));

  const sets: [string, QuerySet][] = [
    ["dev", querySet(devIds, devQrels)],
    ["test", querySet(testIds, data.qrels.test!)],
  ];
  const results = new Map<string, string[]>();
  for (const [name, qs] of sets) {
    const legs = await Legs.open(store, qs);
    const doc = await legs.denseFor(null);
    const lex = legs.lexical;
    const sent = sentenceLeg(qs, emb.vectors, owner, ids);
    const tailSent = tailKeys.length ? sentenceLeg(qs, tailKeys, tailOwner, ids) : qs.vectors.map(() => []);
    const metrics = (ranked: string[][]) => retrievalMetrics(ranked, qs.relevant, topK).metrics;
    const rows: [string, string[][]][] = [
      ["dense (chunk)", doc.map((l) => l.map((h) => h.id))],
      ["sentence leg alone", sent.map((l) => l.map((h) => h.id))],
      ["plain z-score 1/1 (chunk + keyword)", doc.map((d, i) => fuseRankings(d, lex[i]!, zScore11, 100).map((h) => h.id))],
      ["sentence + keyword z 1/1", sent.map((s, i) => fuseRankings(s, lex[i]!, zScore11, 100).map((h) => h.id))],
    ];
    for (const [label, mix] of [
      ["max(chunk, sentence)", (a: number, b: number) => Math.max(a, b)],
      ["chunk + 0.5 sentence", (a: number, b: number) => a + 0.5 * b],
      ["chunk + sentence", (a: number, b: number) => a + b],
      ["0.5 chunk + sentence", (a: number, b: number) => 0.5 * a + b],
    ] as const) {
      const mixed = doc.map((d, i) => mixDense(d, sent[i]!, mix));
      rows.push([`dense = ${label}`, mixed.map((l) => l.map((h) => h.id))]);
      rows.push([`dense = ${label}, + keyword z 1/1`, mixed.map((d, i) => fuseRankings(d, lex[i]!, zScore11, 100).map((h) => h.id))]);
    }
    for (const [wd, ws, wl] of [[1, 1, 1], [1, 0.5, 1], [0.5, 1, 1], [1, 1, 2], [1, 0.5, 1.5], [1, 0.25, 1], [1, 1, 1.5], [0.5, 0.5, 1]] as const) {
      rows.push([`3 legs z-score ${wd}/${ws}/${wl}`, doc.map((d, i) => fuseMany([{ hits: d, weight: wd }, { hits: sent[i]!, weight: ws }, { hits: lex[i]!, weight: wl }]))]);
    }
    for (const [wd, ws, wl] of [[1, 1, 1], [1, 0.5, 1], [1, 1, 2], [1, 0.25, 1]] as const) {
      rows.push([`tail 3 legs z-score ${wd}/${ws}/${wl}`, doc.map((d, i) => fuseMany([{ hits: d, weight: wd }, { hits: tailSent[i]!, weight: ws }, { hits: lex[i]!, weight: wl }]))]);
    }
    for (const [label, mix] of [
      ["max(chunk, tail sentence)", (a: number, b: number) => Math.max(a, b)],
    ] as const) {
      const mixed = doc.map((d, i) => mixDense(d, tailSent[i]!, mix));
      rows.push([`dense = ${label}`, mixed.map((l) => l.map((h) => h.id))]);
      rows.push([`dense = ${label}, + keyword z 1/1`, mixed.map((d, i) => fuseRankings(d, lex[i]!, zScore11, 100).map((h) => h.id))]);
    }
    for (const [label, ranked] of rows) results.set(`${label}\t${name}`, [fmt(metrics(ranked))]);
    log(`${name}: ${qs.texts.length} questions scored`);
  }
  console.log(`\n${data.name}: ${devIds.length} dev questions, ${testIds.length} test; recall@10 / nDCG@10 (dev | test, test for the record only)`);
  const labels = [...new Set([...results.keys()].map((k) => k.split("\t")[0]!))];
  for (const label of labels) console.log(`${label.padEnd(48)} | ${results.get(`${label}\tdev`)![0]} | ${results.get(`${label}\ttest`)![0]}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
