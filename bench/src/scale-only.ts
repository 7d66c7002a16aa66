// The 60,000-chunk hybrid latency check alone, with no embedding model: the test queries' texts drive the keyword
// leg and random unit vectors the dense leg (a scan costs the same whatever the vectors encode).
//   tsx --conditions=@zip/source bench/src/scale-only.ts <beir-dir> [--chunks 60000] [--queries 100] [--dims 384]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadBeir } from "./beir.js";
import { referenceSpeed } from "./engine-speed.js";
import { scaleLatency } from "./scale-latency.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { chunks: { type: "string", default: "60000" }, queries: { type: "string", default: "100" }, dims: { type: "string", default: "384" } },
});
const before = referenceSpeed();
const data = await loadBeir(resolve(positionals[0]!));
const d = Number(values.dims);
let state = 7;
const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const ids = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
const testSet = {
  texts: ids.map((id) => data.queries.get(id)!),
  vectors: ids.map(() => {
    const v = Float32Array.from({ length: d }, random);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  }),
  relevant: ids.map((id) => data.qrels.test!.get(id)!),
};
const scale = await scaleLatency({ data, testSet, dims: d, seed: 42, log: (m) => console.error(m), chunks: Number(values.chunks), queries: Number(values.queries) });
console.log(JSON.stringify({ ...scale, referenceDotMultiplyAddsPerNs: { before, after: referenceSpeed() } }));
