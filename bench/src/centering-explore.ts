/**
 * Training-free query transforms from corpus statistics, measured on dev
 * questions (never on test): centring (q - alpha * mean chunk embedding,
 * which demotes chunks near the corpus mean, the "hubs" every query is a bit
 * similar to) and removing the corpus's top principal directions from the
 * query (all-but-the-top). Both change only the query: q' . d = q . d -
 * alpha * mean . d, so stored embeddings stay as they are.
 *
 *   tsx --conditions=@zip/source bench/src/centering-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42]
 */
import { parseArgs } from "node:util";
import type { MetricTable, QueryTransform } from "@zip/deep-memory";
import { normalize } from "@zip/deep-memory/evaluation";
import { sharedFlags } from "./bench-options.js";
import { openExplore } from "./explore-data.js";
import { zScore11 } from "./explore-fusion.js";
import { defaultHybridFusion, denseOnly, Legs } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { ...sharedFlags } });
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)}`;

/** Top principal directions of the rows (centred), by power iteration with deflation. */
function principalDirections(rows: readonly Float32Array[], mean: Float32Array, count: number): Float32Array[] {
  const d = mean.length;
  const out: Float32Array[] = [];
  for (let c = 0; c < count; c++) {
    let v = normalize(Float32Array.from({ length: d }, (_, i) => Math.sin(i * 7.1 + c * 3.3)));
    for (let iter = 0; iter < 30; iter++) {
      const next = new Float32Array(d);
      for (const r of rows) {
        let s = 0;
        for (let i = 0; i < d; i++) s += (r[i]! - mean[i]!) * v[i]!;
        for (let i = 0; i < d; i++) next[i]! += s * (r[i]! - mean[i]!);
      }
      for (const u of out) {
        let s = 0;
        for (let i = 0; i < d; i++) s += next[i]! * u[i]!;
        for (let i = 0; i < d; i++) next[i]! -= s * u[i]!;
      }
      v = normalize(next);
    }
    out.push(v);
  }
  return out;
}

function transform(d: number, f: (q: Float32Array) => Float32Array): QueryTransform {
  return { dimensions: d, apply: (q) => normalize(f(Float32Array.from(q))) };
}

async function main() {
  const { data, explore, devIds } = await openExplore(positionals[0]!, values);
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const d = corpus.dims;
  const mean = new Float32Array(d);
  for (const v of corpus.vectors) for (let i = 0; i < d; i++) mean[i]! += v[i]! / corpus.vectors.length;
  const pcs = principalDirections(corpus.vectors, mean, 5);
  const rows: [string, QueryTransform | null][] = [["plain", null]];
  for (const alpha of [0.25, 0.5, 0.75, 1]) rows.push([`centred, alpha ${alpha}`, transform(d, (q) => q.map((x, i) => x - alpha * mean[i]!))]);
  for (const k of [1, 2, 5]) {
    rows.push([
      `top ${k} directions removed`,
      transform(d, (q) => {
        for (const u of pcs.slice(0, k)) {
          let s = 0;
          for (let i = 0; i < d; i++) s += q[i]! * u[i]!;
          for (let i = 0; i < d; i++) q[i]! -= s * u[i]!;
        }
        return q;
      }),
    ]);
  }
  const dev = await Legs.open(store, querySet(devIds, devQrels));
  const test = await Legs.open(store, querySet(testIds, data.qrels.test!));
  console.log(`\n${data.name}: ${devIds.length} dev questions, ${testIds.length} test; recall@10 / nDCG@10 dense | RRF k=60 | z-score 1/1 (dev || test, test for the record only)`);
  for (const [name, t] of rows) {
    const cells = [];
    for (const legs of [dev, test]) cells.push([denseOnly, defaultHybridFusion, zScore11].map(async (f) => fmt(await legs.metrics(t, f))));
    const [a, b] = [await Promise.all(cells[0]!), await Promise.all(cells[1]!)];
    console.log(`${name.padEnd(28)} | ${a.join(" | ")} || ${b.join(" | ")}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
