import { LocalDeepMemory, type LocalDeepMemoryOptions } from "@zip/deep-memory";

export interface EngineSpeed {
  dimensions: number;
  pairs: number;
  corpus: number;
  trainSeconds: number;
  epochs: number;
  bestEpoch: number;
  /** Validation recall@10 before and after training: shows the synthetic task was not trivially solved. */
  baselineValidationRecallAt10: number;
  validationRecallAt10: number;
  applyMicrosPerQuery: number;
}

/**
 * How fast this machine runs a fixed plain-JS workload right now (a
 * 384-wide dot product, 200,000 times), as multiply-adds per nanosecond,
 * in 5 samples. Timings taken on different machines, or on a shared one at
 * different moments, compare only through a figure like this: on one 2-core
 * VM the same training run took 1.9 s in one session and 2.8-4.5 s in the next.
 */
export function referenceSpeed(): number[] {
  const d = 384;
  const a = Float32Array.from({ length: d }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: d }, (_, i) => Math.cos(i));
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    for (let rep = 0; rep < 200_000; rep++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
      sink += s;
    }
    const ms = performance.now() - start;
    // The first round warms the JIT.
    if (round > 0) samples.push(+((200_000 * d) / (ms * 1e6)).toFixed(3));
  }
  if (sink === 42) console.log(""); // keeps the loop from being optimised away
  return samples;
}

/** A small seeded generator so the synthetic figures are repeatable. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unit(d: number, rand: () => number, base?: Float32Array, noise = 1): Float32Array {
  const v = new Float32Array(d);
  let n = 0;
  for (let i = 0; i < d; i++) {
    const g = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
    v[i] = (base ? base[i]! : 0) + noise * g / Math.sqrt(d);
    n += v[i]! * v[i]!;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < d; i++) v[i] = v[i]! / n;
  return v;
}

/**
 * A d x d map, row-major: 3/sqrt(d) identity + 0.65 random Gaussian / sqrt(d).
 * The identity share shrinks with d because unrelated unit vectors are about
 * 1/sqrt(d) apart: this keeps plain search at the same difficulty (validation
 * recall@10 about 0.38) in every dimension.
 */
function hiddenMap(d: number, rand: () => number): Float32Array {
  const m = new Float32Array(d * d);
  const identity = 3 / Math.sqrt(d);
  for (let r = 0; r < d; r++) {
    for (let c = 0; c < d; c++) {
      const g = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
      m[r * d + c] = (r === c ? identity : 0) + (0.65 * g) / Math.sqrt(d);
    }
  }
  return m;
}

function mapVector(m: Float32Array, v: Float32Array, d: number): Float32Array {
  const out = new Float32Array(d);
  for (let r = 0; r < d; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += m[r * d + c]! * v[c]!;
    out[r] = s;
  }
  return out;
}

/**
 * The speed task's data (see engineSpeed): 5,000 chunks and 5,000 questions
 * under a hidden map, one per chunk by default; with `perChunk` > 1 the
 * questions are about the first 5,000 / perChunk chunks, several each (so a
 * question memory is tried too). Also used by event-loop-during-training.ts.
 */
export function syntheticTask(d: number, seed: number, perChunk = 1): { corpus: Float32Array[]; queries: Float32Array[]; positives: number[][] } {
  const rand = rng(seed + d);
  const corpus = Array.from({ length: 5000 }, () => unit(d, rand));
  const positives = Array.from({ length: 5000 }, (_, i) => [Math.floor(i / perChunk)]);
  const hidden = hiddenMap(d, rand);
  const queries = positives.map(([i]) => unit(d, rand, mapVector(hidden, corpus[i!]!, d), 1));
  return { corpus, queries, positives };
}

/**
 * The speed targets' setting: 5,000 (question, chunk) pairs over a 5,000-chunk
 * corpus at d=384 (MiniLM) and d=1536 (OpenAI). Each question is its chunk's
 * vector under a hidden linear map (mostly random, a little identity) plus
 * noise, so plain search puts only about 38% of the answers in the top 10 and
 * training has something to learn for many epochs, as on real data (a
 * question that is merely a noisy copy of its chunk is solved before training
 * starts and would time setup only). The figures printed beside each time
 * (validation recall@10 before and after) show that it learned.
 */
export async function engineSpeed(input: { seed: number; log: (m: string) => void; options?: LocalDeepMemoryOptions; dims?: number[] }): Promise<EngineSpeed[]> {
  const out: EngineSpeed[] = [];
  for (const d of input.dims ?? [384, 1536]) {
    const { corpus, queries, positives } = syntheticTask(d, input.seed);
    const engine = new LocalDeepMemory(input.options);
    const s = performance.now();
    const model = await engine.train({ dimensions: d, queries, positives, corpus, seed: input.seed });
    const trainSeconds = (performance.now() - s) / 1000;
    const transform = engine.load(model);
    for (let i = 0; i < 1000; i++) transform.apply(queries[i]!);
    const t = performance.now();
    const n = 5000;
    for (let i = 0; i < n; i++) transform.apply(queries[i]!);
    const applyMicrosPerQuery = ((performance.now() - t) * 1000) / n;
    input.log(
      `engine speed d=${d}: train ${trainSeconds.toFixed(2)} s (${model.report.epochs} epochs, best ${model.report.bestEpoch}; validation recall@10 ${model.report.baselineValidationRecallAt10.toFixed(3)} -> ${model.report.validationRecallAt10.toFixed(3)}), apply ${applyMicrosPerQuery.toFixed(1)} us/query`,
    );
    out.push({
      dimensions: d,
      pairs: 5000,
      corpus: 5000,
      trainSeconds,
      epochs: model.report.epochs,
      bestEpoch: model.report.bestEpoch,
      baselineValidationRecallAt10: model.report.baselineValidationRecallAt10,
      validationRecallAt10: model.report.validationRecallAt10,
      applyMicrosPerQuery,
    });
  }
  return out;
}
