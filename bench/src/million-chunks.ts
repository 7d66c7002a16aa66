/**
 * Training on a large corpus (issue 17.6): N synthetic chunks (default
 * 1,000,000) at d = 384, Q training questions (default 5,000, the speed target's size), each its
 * chunk's vector under a hidden linear map plus noise (as the speed task in
 * engine-speed.ts, so there is something to learn). The engine mines hard
 * negatives against every answer plus a seeded sample of the corpus
 * (`corpusSample`, 100,000 by default), never the whole corpus.
 *
 *   tsx --conditions=@zip/source bench/src/million-chunks.ts [--chunks 1000000] [--questions 5000] [--dims 384]
 *       [--test 100] [--engine-options '{"corpusSample":100000}'] [--out results]
 *
 * Reports training seconds, peak RSS of the whole process (the training
 * worker thread included; the caller's corpus arrays too: N x d x 4 bytes)
 * and, for --test held-out questions about untrained chunks, recall@10
 * against the WHOLE corpus, exact, with and without the model.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpus } from "node:os";
import { LocalDeepMemory, type LocalDeepMemoryOptions } from "@zip/deep-memory";
import { referenceSpeed } from "./engine-speed.js";

const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "1000000" },
    questions: { type: "string", default: "5000" },
    dims: { type: "string", default: "384" },
    test: { type: "string", default: "100" },
    seed: { type: "string", default: "42" },
    "engine-options": { type: "string", default: "{}" },
    out: { type: "string", default: "results" },
  },
});
const n = Number(values.chunks);
const q = Number(values.questions);
const d = Number(values.dims);
const testCount = Number(values.test);
const seed = Number(values.seed);
const log = (m: string) => console.error(`[1M ${new Date().toISOString().slice(11, 19)}] ${m}`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

/** xorshift32 uniforms; a Gaussian as the sum of four (Irwin-Hall): random directions, cheaply, for 384M numbers. */
function generator(s: number) {
  let x = (s | 0) || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return { next, gauss: () => (next() + next() + next() + next() - 2) * Math.sqrt(3) };
}

function normalize(v: Float32Array, offset: number, len: number) {
  let s = 0;
  for (let i = 0; i < len; i++) s += v[offset + i]! * v[offset + i]!;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < len; i++) v[offset + i]! *= inv;
}

async function main() {
  const referenceAtStart = referenceSpeed();
  const rand = generator(seed);
  let t = performance.now();
  // One buffer, viewed row by row: the engine takes Float32Array rows without copying them first.
  const matrix = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) matrix[i] = rand.gauss();
  for (let r = 0; r < n; r++) normalize(matrix, r * d, d);
  const corpus = Array.from({ length: n }, (_, r) => matrix.subarray(r * d, (r + 1) * d));
  // The hidden map: 3/sqrt(d) identity + 0.65 Gaussian / sqrt(d) (engine-speed.ts's), noise 1.
  const hidden = new Float32Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) hidden[r * d + c] = (r === c ? 3 / Math.sqrt(d) : 0) + (0.65 * rand.gauss()) / Math.sqrt(d);
  const ask = (chunk: number) => {
    const v = new Float32Array(d);
    const row = corpus[chunk]!;
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += hidden[r * d + c]! * row[c]!;
      v[r] = s + rand.gauss() / Math.sqrt(d);
    }
    normalize(v, 0, d);
    return v;
  };
  // Training questions about every (n / q)-th chunk; test questions about chunks in between, never trained on.
  const step = Math.floor(n / q);
  const positives = Array.from({ length: q }, (_, i) => [i * step]);
  const queries = positives.map(([c]) => ask(c!));
  const testChunks = Array.from({ length: testCount }, (_, i) => Math.floor(((i + 0.5) * n) / testCount) + 1);
  const testQueries = testChunks.map(ask);
  const generateSeconds = (performance.now() - t) / 1000;
  log(`generated ${n} chunks and ${q + testCount} questions at d=${d} in ${generateSeconds.toFixed(1)} s; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

  const options = JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions;
  const engine = new LocalDeepMemory(options);
  const rssBeforeTraining = process.memoryUsage().rss;
  peakRss = rssBeforeTraining;
  t = performance.now();
  const model = await engine.train({ dimensions: d, queries, positives, corpus, seed });
  const trainSeconds = (performance.now() - t) / 1000;
  const trainingPeakRss = Math.max(peakRss, process.memoryUsage().rss);
  log(
    `trained in ${trainSeconds.toFixed(1)} s (${model.report.epochs} epochs, best ${model.report.bestEpoch}; validation recall@10 on the sample ${model.report.baselineValidationRecallAt10.toFixed(3)} -> ${model.report.validationRecallAt10.toFixed(3)}); peak RSS ${(trainingPeakRss / 2 ** 20).toFixed(0)} MiB`,
  );

  // Exact recall@10 over the whole corpus: a question's answer is in its top 10 while fewer than 10 chunks outscore it
  // (a question drops out of the scan at the 10th, so misses cost little).
  const transform = engine.load(model);
  t = performance.now();
  const recall = (qs: Float32Array[]) => {
    let hits = 0;
    qs.forEach((v, i) => {
      const answer = testChunks[i]!;
      const row = corpus[answer]!;
      let target = 0;
      for (let k = 0; k < d; k++) target += v[k]! * row[k]!;
      let above = 0;
      for (let r = 0; r < n && above < 10; r++) {
        if (r === answer) continue;
        const o = r * d;
        let s = 0;
        for (let k = 0; k < d; k++) s += v[k]! * matrix[o + k]!;
        if (s > target) above++;
      }
      if (above < 10) hits++;
    });
    return hits / qs.length;
  };
  const testBefore = testCount ? recall(testQueries) : null;
  const testAfter = testCount ? recall(testQueries.map((v) => transform.apply(v))) : null;
  const testSeconds = (performance.now() - t) / 1000;
  if (testCount) log(`test: ${testCount} questions about untrained chunks, exact over all ${n} chunks: recall@10 ${testBefore!.toFixed(3)} -> ${testAfter!.toFixed(3)} (${testSeconds.toFixed(0)} s)`);

  clearInterval(sampler);
  const report = {
    createdAt: new Date().toISOString(),
    chunks: n,
    questions: q,
    dimensions: d,
    seed,
    engineOptions: engine.options,
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, referenceDotMultiplyAddsPerNs: { atStart: referenceAtStart, atEnd: referenceSpeed() } },
    generateSeconds,
    trainSeconds,
    epochs: model.report.epochs,
    bestEpoch: model.report.bestEpoch,
    validationRecallAt10: { before: model.report.baselineValidationRecallAt10, after: model.report.validationRecallAt10 },
    test: testCount ? { questions: testCount, recallAt10: { before: testBefore, after: testAfter } } : null,
    rssMiB: { beforeTraining: Math.round(rssBeforeTraining / 2 ** 20), peakDuringTraining: Math.round(trainingPeakRss / 2 ** 20), processMax: Math.round(process.resourceUsage().maxRSS / 1024) },
  };
  console.log(
    `${n} chunks, ${q} questions, d=${d}: train ${trainSeconds.toFixed(1)} s, peak RSS ${report.rssMiB.peakDuringTraining} MiB (corpus arrays alone ${((n * d * 4) / 2 ** 20).toFixed(0)} MiB; RSS before training ${report.rssMiB.beforeTraining} MiB)`,
  );
  await mkdir(values.out, { recursive: true });
  const file = join(values.out, `million-chunks-${report.createdAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
