import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { dot, normalizeRows } from "./kernels.js";
import { LocalDeepMemory } from "./local-deep-memory.js";
import { kthLargest } from "./memory-index.js";
import { QuestionMemory } from "./question-memory.js";
import { SeededRandom } from "./random.js";
import { ResidualTransform, residualFormat, residualGatedMemoryFormat, residualMemoryFormat } from "./residual-transform.js";

function unitRows(random: SeededRandom, rows: number, d: number): Float32Array {
  const x = Float32Array.from({ length: rows * d }, () => random.normal());
  normalizeRows(x, rows, d);
  return x;
}

const d = 24;

/** 40 chunks; question i is about chunk i % 40 and unrelated to it (a random direction). */
function world(seed = 1) {
  const random = new SeededRandom(seed);
  const corpus = unitRows(random, 40, d);
  const questions = unitRows(random, 80, d);
  const positives = Array.from({ length: 80 }, (_, i) => Int32Array.of(i % 40));
  return { random, corpus, questions, positives };
}

describe("QuestionMemory", () => {
  it("pulls a query toward the chunk of the training question it matches", () => {
    const { corpus, questions, positives } = world();
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 1, temperature: 0.05, weight: 0.5, probe: 0.2 });
    const query = questions.slice(3 * d, 4 * d);
    const out = query.slice();
    memory.pull(query, out);
    // One neighbour: exactly q + 0.5 * chunk 3 (int8 storage moves it by well under 1%).
    for (let k = 0; k < d; k++) expect(out[k]).toBeCloseTo(query[k]! + 0.5 * corpus[3 * d + k]!, 2);
    expect(dot(out, corpus, d, 0, 3 * d)).toBeGreaterThan(dot(query, corpus, d, 0, 3 * d) + 0.4);
  });

  it("looks up many queries at once exactly as one at a time", () => {
    const { random, corpus, questions, positives } = world(2);
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 8, temperature: 0.05, weight: 0.25, probe: 0.2 });
    const queries = unitRows(random, 5, d);
    const near = memory.lookup(queries, 5);
    for (let i = 0; i < 5; i++) {
      const q = queries.subarray(i * d, (i + 1) * d);
      const viaPull = new Float32Array(d);
      memory.pull(q, viaPull);
      const viaLookup = new Float32Array(d);
      for (let j = 0; j < near.width; j++) {
        const v = near.value[i * near.width + j]!;
        for (let k = 0; k < d; k++) viaLookup[k]! += 0.25 * near.attention[i * near.width + j]! * memory.values[v * d + k]!;
      }
      for (let k = 0; k < d; k++) expect(viaLookup[k]).toBeCloseTo(viaPull[k]!, 6);
      expect(near.attention.subarray(i * near.width, (i + 1) * near.width).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it("round-trips with its transform: the loaded model applies bit for bit like the built one", () => {
    const { random, corpus, questions, positives } = world(3);
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 4, temperature: 0.1, weight: 0.3, probe: 0.2 });
    const r = 4;
    const transform = new ResidualTransform(d, r, unitRows(random, d, r), unitRows(random, r, d), { memory });
    expect(transform.format).toBe(residualMemoryFormat);
    const loaded = ResidualTransform.fromBytes({ format: transform.format, dimensions: d, weights: transform.toBytes() });
    expect(loaded.memory!.parameters).toEqual({ neighbours: 4, temperature: Math.fround(0.1), weight: Math.fround(0.3), probe: Math.fround(0.2), threshold: -Infinity });
    expect(loaded.memory!.dequantisedKeys()).toEqual(memory.dequantisedKeys());
    expect(loaded.memory!.values).toEqual(memory.values);
    for (let i = 0; i < 5; i++) {
      const q = unitRows(random, 1, d);
      expect(loaded.apply(q)).toEqual(transform.apply(q));
    }
  });

  it("with a threshold, pulls only queries whose nearest key is at least that similar, and round-trips as residual-linear/v3", () => {
    const { random, corpus, questions, positives } = world(6);
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 4, temperature: 0.05, weight: 0.5, probe: 0.2, threshold: 0.9 });
    const near = questions.slice(5 * d, 6 * d); // a remembered question: similarity 1 to its key
    const far = unitRows(random, 1, d);
    const pulled = (q: Float32Array) => {
      const out = q.slice();
      memory.pull(q, out);
      return out;
    };
    expect(pulled(near)).not.toEqual(near);
    expect(memory.lookup(far, 1).nearest[0]).toBeLessThan(0.9);
    expect(pulled(far)).toEqual(far);
    // pullRows gates the same rows at the same threshold.
    const both = new Float32Array(2 * d);
    both.set(near);
    both.set(far, d);
    const rows = both.slice();
    memory.pullRows(memory.lookup(both, 2), 0.5, rows, 0.9);
    expect(rows.subarray(d)).toEqual(far);
    for (let k = 0; k < d; k++) expect(rows[k]).toBeCloseTo(pulled(near)[k]!, 6);

    const r = 3;
    const transform = new ResidualTransform(d, r, unitRows(random, d, r), unitRows(random, r, d), { memory });
    expect(transform.format).toBe(residualGatedMemoryFormat);
    const loaded = ResidualTransform.fromBytes({ format: transform.format, dimensions: d, weights: transform.toBytes() });
    expect(loaded.memory!.parameters.threshold).toBe(Math.fround(0.9));
    for (const q of [near, far]) expect(loaded.apply(q)).toEqual(transform.apply(q));
    // Layout and format must agree, and the threshold must be a number.
    expect(() => ResidualTransform.fromBytes({ format: residualMemoryFormat, dimensions: d, weights: transform.toBytes() })).toThrow(ValidationError);
    const bytes = transform.toBytes();
    new DataView(bytes.buffer).setFloat32(16 + 8 * d * r + 24, Number.NaN, true);
    expect(() => ResidualTransform.fromBytes({ format: transform.format, dimensions: d, weights: bytes })).toThrow(/threshold/);
  });

  it("stores no memory at weight 0, so the model keeps the plain residual format", () => {
    const { random, corpus, questions, positives } = world(4);
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 4, temperature: 0.1, weight: 0, probe: 0.2 });
    const transform = new ResidualTransform(d, 2, new Float32Array(2 * d), unitRows(random, 2, d), { memory });
    expect(transform.memory).toBeNull();
    expect(transform.format).toBe(residualFormat);
    const q = unitRows(random, 1, d);
    expect(transform.apply(q)).toEqual(q);
  });

  it("refuses damaged memory sections with a ValidationError", () => {
    const { random, corpus, questions, positives } = world(5);
    const memory = QuestionMemory.build(questions, positives, corpus, d, { neighbours: 4, temperature: 0.1, weight: 0.3, probe: 0.2 });
    const transform = new ResidualTransform(d, 2, unitRows(random, d, 2), unitRows(random, 2, d), { memory });
    const good = transform.toBytes();
    const memoryAt = 16 + 8 * d * 2;
    const load = (weights: Uint8Array, format = residualMemoryFormat) => () => ResidualTransform.fromBytes({ format, dimensions: d, weights });
    const edited = (edit: (view: DataView) => void) => {
      const bytes = good.slice();
      edit(new DataView(bytes.buffer));
      return bytes;
    };
    expect(load(good)).not.toThrow();
    expect(load(good.slice(0, good.length - 1))).toThrow(ValidationError);
    expect(load(Uint8Array.of(...good, 0))).toThrow(/follow the question memory/);
    expect(load(edited((v) => v.setFloat32(memoryAt + 12, -1, true)))).toThrow(/temperature/);
    expect(load(edited((v) => v.setUint32(memoryAt + 8, 0, true)))).toThrow(/neighbours/);
    expect(load(edited((v) => v.setFloat32(memoryAt + 20, 1.5, true)))).toThrow(/probe/);
    // The first key's value row, pointed past the 40 stored values.
    expect(load(edited((v) => v.setUint32(memoryAt + 24 + 4 * (80 + 40), 40, true)))).toThrow(/past the 40 values/);
    // A memory model under the plain format (or the reverse) is refused.
    expect(load(good, residualFormat)).toThrow(ValidationError);
  });
});

describe("kthLargest", () => {
  it("finds the k-th largest like a sort, ties included", () => {
    const random = new SeededRandom(4);
    for (const n of [1, 2, 7, 205]) {
      const values = Float32Array.from({ length: n }, () => Math.round(random.normal() * 4) / 4);
      const sorted = [...values].sort((a, b) => b - a);
      for (const k of [1, Math.ceil(n / 3), n]) expect(kthLargest(values.slice(), k)).toBe(sorted[k - 1]);
    }
  });
});

describe("QuestionMemory index (inverted lists above 4,096 keys)", { timeout: 30_000 }, () => {
  // 6,000 questions in 300 topics of 20, each about one of 2,000 chunks.
  const big = () => {
    const random = new SeededRandom(9);
    const dims = 32;
    const topics = unitRows(random, 300, dims);
    const questions = new Float32Array(6000 * dims);
    for (let i = 0; i < 6000; i++) {
      for (let k = 0; k < dims; k++) questions[i * dims + k] = topics[(i % 300) * dims + k]! + 0.3 * random.normal() / Math.sqrt(dims);
    }
    normalizeRows(questions, 6000, dims);
    const corpus = unitRows(random, 2000, dims);
    const positives = Array.from({ length: 6000 }, (_, i) => Int32Array.of(i % 2000));
    const params = { neighbours: 8, temperature: 0.05, weight: 0.5, probe: 0.2 };
    return { random, dims, questions, corpus, positives, params };
  };

  it("groups the keys into lists and finds nearly the same neighbours as scanning them all", () => {
    const { random, dims, questions, corpus, positives, params } = big();
    const indexed = QuestionMemory.build(questions, positives, corpus, dims, params);
    expect(indexed.lists).not.toBeNull();
    expect(indexed.lists!.start.length - 1).toBe(Math.round(Math.sqrt(6000)));
    // Against a brute-force scan of the same (dequantised) keys, for questions like the remembered ones.
    const probes = Array.from({ length: 50 }, (_, i) => {
      const q = Float32Array.from(questions.subarray(i * 97 * dims, (i * 97 + 1) * dims), (x) => x + 0.05 * random.normal());
      normalizeRows(q, 1, dims);
      return q;
    });
    const keys = indexed.dequantisedKeys();
    let same = 0;
    for (const q of probes) {
      const viaIndex = new Float32Array(dims);
      indexed.pull(q, viaIndex);
      // Brute force over the dequantised keys.
      const scores = Array.from({ length: indexed.keyCount }, (_, k) => dot(q, keys, dims, 0, k * dims));
      const top = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 8);
      const weights = top.map((k) => Math.exp((scores[k]! - scores[top[0]!]!) / indexed.parameters.temperature));
      const total = weights.reduce((a, b) => a + b, 0);
      const exact = new Float32Array(dims);
      top.forEach((k, j) => {
        for (let x = 0; x < dims; x++) exact[x]! += indexed.parameters.weight * (weights[j]! / total) * indexed.values[indexed.valueOf[k]! * dims + x]!;
      });
      // The memory scores its shortlist with an int8 query: weights within about 1e-3.
      if (exact.every((v, x) => Math.abs(v - viaIndex[x]!) < 2e-3)) same++;
    }
    expect(same).toBeGreaterThanOrEqual(48);
    // probe 1: no lists, every key scanned.
    expect(QuestionMemory.build(questions, positives, corpus, dims, { ...params, probe: 1 }).lists).toBeNull();
  });

  it("round-trips its lists, and looks up in batches exactly as one query at a time", () => {
    const { random, dims, questions, corpus, positives, params } = big();
    const memory = QuestionMemory.build(questions, positives, corpus, dims, params);
    const transform = new ResidualTransform(dims, 2, new Float32Array(2 * dims), unitRows(random, 2, dims), { memory });
    const loaded = ResidualTransform.fromBytes({ format: transform.format, dimensions: dims, weights: transform.toBytes() });
    expect(loaded.memory!.lists!.start).toEqual(memory.lists!.start);
    expect(loaded.memory!.lists!.centroids).toEqual(memory.lists!.centroids);
    const queries = unitRows(random, 20, dims);
    const near = memory.lookup(queries, 20);
    for (let i = 0; i < 20; i++) {
      const q = queries.subarray(i * dims, (i + 1) * dims);
      expect(loaded.apply(q)).toEqual(transform.apply(q));
      const viaPull = new Float32Array(dims);
      memory.pull(q, viaPull);
      const viaLookup = new Float32Array(dims);
      for (let j = 0; j < near.width; j++) {
        const v = near.value[i * near.width + j]!;
        if (v >= 0) for (let k = 0; k < dims; k++) viaLookup[k]! += 0.5 * near.attention[i * near.width + j]! * memory.values[v * dims + k]!;
      }
      for (let k = 0; k < dims; k++) expect(viaLookup[k]).toBeCloseTo(viaPull[k]!, 6);
    }
    const broken = transform.toBytes();
    new DataView(broken.buffer).setUint32(broken.length - 4, 5999, true); // the last offset no longer covers every key
    expect(() => ResidualTransform.fromBytes({ format: transform.format, dimensions: dims, weights: broken })).toThrow(/list offsets/);
  });
});

describe("LocalDeepMemory with the question memory", { timeout: 30_000 }, () => {
  it("keeps a memory where no linear map can help, and held-out questions like the training ones rank their chunk first", async () => {
    // Each chunk's questions are noisy copies of one random direction, unrelated to the chunk:
    // no single linear correction maps 60 unrelated directions to their chunks, a memory does.
    const random = new SeededRandom(6);
    const chunks = 60;
    const dims = 64;
    const corpus = Array.from({ length: chunks }, () => unitRows(random, 1, dims));
    const anchors = Array.from({ length: chunks }, () => unitRows(random, 1, dims));
    const ask = (c: number) => {
      const q = anchors[c]!.map((x) => x + (0.1 * random.normal()) / Math.sqrt(dims));
      normalizeRows(q, 1, dims);
      return q;
    };
    const asked = Array.from({ length: chunks * 6 }, (_, i) => i % chunks);
    const input = { dimensions: dims, queries: asked.map(ask), positives: asked.map((c) => [c]), corpus, seed: 3 };
    const engine = new LocalDeepMemory({ rank: 8, maxEpochs: 5 });
    const model = await engine.train(input);
    expect(model.format).toBe(residualMemoryFormat);
    expect(model.report.questionMemory).toMatchObject({ chunks });
    expect(model.report.questionMemory!.weight).toBeGreaterThan(0);
    const transform = engine.load(model);
    const rank = (q: Float32Array, c: number) => corpus.filter((other) => dot(q, other) > dot(q, corpus[c]!)).length + 1;
    let plainFirst = 0;
    let memoryFirst = 0;
    for (let c = 0; c < chunks; c++) {
      const q = ask(c);
      if (rank(q, c) === 1) plainFirst++;
      if (rank(transform.apply(q), c) === 1) memoryFirst++;
    }
    expect(plainFirst).toBeLessThan(chunks / 4);
    expect(memoryFirst).toBeGreaterThan(chunks * 0.8);

    const off = await new LocalDeepMemory({ rank: 8, maxEpochs: 5, memoryWeights: [] }).train(input);
    expect(off.format).toBe(residualFormat);
    expect(off.report.questionMemory).toBeUndefined();
  });

  it("is not tried where validation questions are about chunks no training question was about", async () => {
    // One question per chunk: whatever the split, no validation answer is remembered.
    const random = new SeededRandom(8);
    const corpus = Array.from({ length: 300 }, () => unitRows(random, 1, 16));
    const queries = corpus.map((c) => {
      const q = c.map((x) => x + 0.3 * random.normal());
      normalizeRows(q, 1, 16);
      return q;
    });
    const model = await new LocalDeepMemory({ rank: 4, maxEpochs: 3 }).train({
      dimensions: 16,
      queries,
      positives: corpus.map((_, i) => [i]),
      corpus,
      seed: 1,
    });
    expect(model.report.questionMemory).toBeUndefined();
    expect(model.format).toBe(residualFormat);
  });
});

describe("LocalDeepMemory with a gated question memory", { timeout: 30_000 }, () => {
  it("chooses a gate on validation that leaves questions about chunks no training question asked about unpulled", async () => {
    // Chunks 0-79 are asked about through random topics (only a memory finds them), chunks 80-279
    // by noisy copies of themselves, one question each (plain search finds them; a strong pull toward
    // the nearest remembered question's chunk only misleads them).
    const random = new SeededRandom(9);
    const dims = 48;
    const corpus = Array.from({ length: 400 }, () => unitRows(random, 1, dims));
    const topics = Array.from({ length: 80 }, () => unitRows(random, 1, dims));
    const noisy = (v: Float32Array, noise: number) => {
      const q = v.map((x) => x + (noise * random.normal()) / Math.sqrt(dims));
      normalizeRows(q, 1, dims);
      return q;
    };
    const topicQuestion = (c: number) => noisy(topics[c]!, 0.3);
    const copyQuestion = (c: number) => noisy(corpus[c]!, 2);
    const asked = [...Array.from({ length: 240 }, (_, i) => i % 80), ...Array.from({ length: 200 }, (_, i) => 80 + i)];
    const input = {
      dimensions: dims,
      queries: asked.map((c) => (c < 80 ? topicQuestion(c) : copyQuestion(c))),
      positives: asked.map((c) => [c]),
      corpus,
      seed: 5,
    };
    const options = { rank: 8, maxEpochs: 4, memoryWeights: [0.25, 0.5, 1], memoryMinGain: 0 };
    const gatedEngine = new LocalDeepMemory({ ...options, memoryGateQuantiles: [0.2, 0.4, 0.6, 0.8] });
    const gatedModel = await gatedEngine.train(input);
    expect(gatedModel.format).toBe(residualGatedMemoryFormat);
    const gated = gatedEngine.load(gatedModel) as ResidualTransform;
    expect(gated.memory!.parameters.threshold).toBeGreaterThan(-Infinity);
    const plainEngine = new LocalDeepMemory(options);
    const plain = plainEngine.load(await plainEngine.train(input));

    // Held out: new topic questions (their chunks remembered) and copies of chunks 280-399 (never asked about).
    const rankOf = (transform: ResidualTransform | typeof plain, q: Float32Array, c: number) => {
      const t = transform.apply(q);
      const score = dot(t, corpus[c]!);
      return corpus.filter((chunk) => dot(t, chunk) > score).length;
    };
    const topicHeldOut = Array.from({ length: 80 }, (_, c) => [topicQuestion(c), c] as const);
    const unseenHeldOut = Array.from({ length: 120 }, (_, i) => [copyQuestion(280 + i), 280 + i] as const);
    const top10 = (transform: ResidualTransform | typeof plain, set: readonly (readonly [Float32Array, number])[]) =>
      set.filter(([q, c]) => rankOf(transform, q, c) < 10).length / set.length;
    const identity = { apply: (q: Float32Array) => q };
    // The gate keeps what the memory gives remembered chunks and gives back what it cost the others.
    expect(top10(gated, topicHeldOut)).toBeGreaterThan(0.9);
    expect(top10(gated, unseenHeldOut)).toBeGreaterThanOrEqual(top10(identity as never, unseenHeldOut) - 0.1);
    expect(top10(gated, unseenHeldOut)).toBeGreaterThan(top10(plain, unseenHeldOut));
  });
});
