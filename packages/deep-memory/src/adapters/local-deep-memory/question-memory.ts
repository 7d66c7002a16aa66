import { ValidationError } from "../../errors/errors.js";
import { corpusKernels, topK, type CorpusKernels } from "./kernels.js";

/** How a query reads the memory; stored with the model. */
export interface MemoryParameters {
  /** Keys (training questions) each query attends to: its nearest ones. */
  neighbours: number;
  /** Softmax temperature over the neighbours' cosine similarities. */
  temperature: number;
  /** How far the query is pulled toward the attended chunks (0: not at all). */
  weight: number;
}

/**
 * The training questions remembered as they are: keys are their embeddings,
 * values the embeddings of the chunks they were about. A query is pulled
 * toward the chunks of the training questions nearest to it:
 * q' = normalize(q + weight * sum_i a_i value_i), a = softmax over its
 * `neighbours` most similar keys of similarity / temperature. Where the
 * residual map learns one linear correction for all questions, the memory
 * answers "a question like this one was about that chunk", which pseudo-
 * queries made from the corpus can teach: on SciFact a linear map trained on
 * them never beat plain search on real claims, this memory does.
 *
 * Keys and values are stored as int8 with one float32 scale per row (a
 * quarter of float32's size; the similarities move by about 1e-3). A memory
 * built for training is quantised at once, so validation scores exactly the
 * numbers a loaded model will use.
 */
export class QuestionMemory {
  readonly dimensions: number;
  readonly keyCount: number;
  readonly valueCount: number;
  readonly parameters: MemoryParameters;
  /** Row-major keys (keyCount x d) and values (valueCount x d), dequantised. */
  readonly keys: Float32Array;
  readonly values: Float32Array;
  /** Value row of each key. */
  readonly valueOf: Int32Array;
  private readonly quantisedKeys: Quantised;
  private readonly quantisedValues: Quantised;
  private keyKernels: CorpusKernels | null = null;
  private readonly scores: Float32Array;
  private readonly nearest: Int32Array;
  private readonly nearestScores: Float32Array;
  private readonly attention: Float64Array;

  private constructor(d: number, keys: Quantised, values: Quantised, valueOf: Int32Array, parameters: MemoryParameters) {
    this.dimensions = d;
    this.keyCount = valueOf.length;
    this.valueCount = values.scales.length;
    // Stored as float32: the built memory reads exactly the numbers a loaded one will.
    this.parameters = { ...parameters, temperature: Math.fround(parameters.temperature), weight: Math.fround(parameters.weight) };
    this.quantisedKeys = keys;
    this.quantisedValues = values;
    this.keys = dequantise(keys, d);
    this.values = dequantise(values, d);
    this.valueOf = valueOf;
    const k = Math.min(parameters.neighbours, this.keyCount);
    this.scores = new Float32Array(this.keyCount);
    this.nearest = new Int32Array(k);
    this.nearestScores = new Float32Array(k);
    this.attention = new Float64Array(k);
  }

  /**
   * One key per (question, chunk) pair: `questions` row-major (count x d),
   * `positives[i]` the corpus rows question i is about.
   */
  static build(
    questions: Float32Array,
    positives: readonly Int32Array[],
    corpus: Float32Array,
    d: number,
    parameters: MemoryParameters,
  ): QuestionMemory {
    const valueRow = new Map<number, number>();
    const keyRows: number[] = [];
    const valueOf: number[] = [];
    positives.forEach((chunks, question) => {
      for (const chunk of chunks) {
        if (!valueRow.has(chunk)) valueRow.set(chunk, valueRow.size);
        keyRows.push(question);
        valueOf.push(valueRow.get(chunk)!);
      }
    });
    const keys = new Float32Array(keyRows.length * d);
    keyRows.forEach((q, i) => keys.set(questions.subarray(q * d, (q + 1) * d), i * d));
    const values = new Float32Array(valueRow.size * d);
    for (const [chunk, row] of valueRow) values.set(corpus.subarray(chunk * d, (chunk + 1) * d), row * d);
    return new QuestionMemory(d, quantise(keys, keyRows.length, d), quantise(values, valueRow.size, d), Int32Array.from(valueOf), parameters);
  }

  /** The same memory read with another weight (training tries a few on validation). */
  withWeight(weight: number): QuestionMemory {
    return new QuestionMemory(this.dimensions, this.quantisedKeys, this.quantisedValues, this.valueOf, { ...this.parameters, weight });
  }

  /**
   * For each of `rows` queries (row-major), the value rows of its nearest
   * keys and their attention weights, `neighbours` per query (fewer keys:
   * padded with value -1, weight 0).
   */
  lookup(queries: Float32Array, rows: number): { value: Int32Array; attention: Float32Array; width: number } {
    const d = this.dimensions;
    const width = this.parameters.neighbours;
    const value = new Int32Array(rows * width).fill(-1);
    const attention = new Float32Array(rows * width);
    const block = Math.max(2, Math.min(256, Math.floor(4_194_304 / Math.max(1, this.keyCount))));
    const scores = new Float32Array(block * this.keyCount);
    for (let start = 0; start < rows; start += block) {
      const count = Math.min(block, rows - start);
      this.kernels().scoreAll(queries.subarray(start * d, (start + count) * d), count, scores);
      for (let i = 0; i < count; i++) {
        const found = this.attend(scores, i * this.keyCount);
        for (let j = 0; j < found; j++) {
          value[(start + i) * width + j] = this.valueOf[this.nearest[j]!]!;
          attention[(start + i) * width + j] = this.attention[j]!;
        }
      }
    }
    return { value, attention, width };
  }

  /** out += weight * sum_i a_i value_i for one raw (untransformed) query. */
  pull(query: Float32Array, out: Float32Array): void {
    if (this.parameters.weight === 0 || this.keyCount === 0) return;
    this.kernels().scoreAll(query, 1, this.scores);
    const found = this.attend(this.scores, 0);
    const d = this.dimensions;
    for (let j = 0; j < found; j++) {
      const w = this.parameters.weight * this.attention[j]!;
      const from = this.valueOf[this.nearest[j]!]! * d;
      for (let k = 0; k < d; k++) out[k] = out[k]! + w * this.values[from + k]!;
    }
  }

  /** Nearest keys of one score row into `nearest`, their softmax weights into `attention`; returns how many. */
  private attend(scores: Float32Array, offset: number): number {
    const found = topK(scores, this.nearest.length, this.nearest, this.nearestScores, offset, this.keyCount);
    if (found === 0) return 0;
    const tau = this.parameters.temperature;
    const max = this.nearestScores[0]!;
    let sum = 0;
    for (let j = 0; j < found; j++) {
      const e = Math.exp((this.nearestScores[j]! - max) / tau);
      this.attention[j] = e;
      sum += e;
    }
    for (let j = 0; j < found; j++) this.attention[j]! /= sum;
    return found;
  }

  /** Keys resident in wasm memory (or JS loops) from the first lookup on. */
  private kernels(): CorpusKernels {
    this.keyKernels ??= corpusKernels(this.keys, this.keyCount, this.dimensions);
    return this.keyKernels;
  }

  /** Byte length of the serialised section. */
  byteLength(): number {
    return sectionHeaderBytes + (this.keyCount + this.valueCount) * (4 + this.dimensions) + 4 * this.keyCount;
  }

  /**
   * Section layout (little-endian): key count, value count, neighbours
   * (uint32 each), temperature, weight (float32), key scales and value scales
   * (float32), each key's value row (uint32), then key and value rows as int8.
   */
  write(view: DataView, offset: number): number {
    const d = this.dimensions;
    const { neighbours, temperature, weight } = this.parameters;
    view.setUint32(offset, this.keyCount, true);
    view.setUint32(offset + 4, this.valueCount, true);
    view.setUint32(offset + 8, neighbours, true);
    view.setFloat32(offset + 12, temperature, true);
    view.setFloat32(offset + 16, weight, true);
    let at = offset + sectionHeaderBytes;
    for (const scales of [this.quantisedKeys.scales, this.quantisedValues.scales]) {
      for (const s of scales) (view.setFloat32(at, s, true), (at += 4));
    }
    for (const v of this.valueOf) (view.setUint32(at, v, true), (at += 4));
    for (const q of [this.quantisedKeys.codes, this.quantisedValues.codes]) {
      new Int8Array(view.buffer, view.byteOffset + at, q.length).set(q);
      at += q.length;
    }
    return at;
  }

  /** Reads a section written by `write`; ValidationError on anything inconsistent. Returns the memory and the offset after it. */
  static read(view: DataView, offset: number, d: number): { memory: QuestionMemory; end: number } {
    const fail = (message: string): never => {
      throw new ValidationError(`Cannot load deep memory model: ${message}`, [{ path: "weights", message }]);
    };
    if (view.byteLength < offset + sectionHeaderBytes) fail("the question memory header is cut short");
    const keyCount = view.getUint32(offset, true);
    const valueCount = view.getUint32(offset + 4, true);
    const neighbours = view.getUint32(offset + 8, true);
    const temperature = view.getFloat32(offset + 12, true);
    const weight = view.getFloat32(offset + 16, true);
    if (neighbours < 1) fail("the question memory attends to no neighbours");
    if (!(temperature > 0) || !Number.isFinite(temperature)) fail("the question memory temperature is not a positive number");
    if (!(weight >= 0) || !Number.isFinite(weight)) fail("the question memory weight is not a non-negative number");
    if (valueCount > keyCount) fail("the question memory has more values than keys");
    const expected = sectionHeaderBytes + (keyCount + valueCount) * (4 + d) + 4 * keyCount;
    if (view.byteLength - offset < expected) fail(`the question memory needs ${expected} bytes, ${view.byteLength - offset} remain`);
    let at = offset + sectionHeaderBytes;
    const readScales = (n: number) => {
      const scales = new Float32Array(n);
      for (let i = 0; i < n; i++, at += 4) {
        const s = view.getFloat32(at, true);
        if (!(s >= 0) || !Number.isFinite(s)) fail("the question memory has a scale that is not a finite non-negative number");
        scales[i] = s;
      }
      return scales;
    };
    const keyScales = readScales(keyCount);
    const valueScales = readScales(valueCount);
    const valueOf = new Int32Array(keyCount);
    for (let i = 0; i < keyCount; i++, at += 4) {
      const v = view.getUint32(at, true);
      if (v >= valueCount) fail(`key ${i} points at value ${v}, past the ${valueCount} values`);
      valueOf[i] = v;
    }
    const codes = (n: number) => {
      const out = new Int8Array(n * d);
      out.set(new Int8Array(view.buffer, view.byteOffset + at, n * d));
      at += n * d;
      return out;
    };
    const keys = { codes: codes(keyCount), scales: keyScales };
    const values = { codes: codes(valueCount), scales: valueScales };
    return { memory: new QuestionMemory(d, keys, values, valueOf, { neighbours, temperature, weight }), end: at };
  }
}

const sectionHeaderBytes = 20;

interface Quantised {
  codes: Int8Array;
  scales: Float32Array;
}

/** Symmetric int8 per row: code = round(x / scale), scale = max |x| / 127. */
function quantise(x: Float32Array, rows: number, d: number): Quantised {
  const codes = new Int8Array(rows * d);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let k = 0; k < d; k++) max = Math.max(max, Math.abs(x[r * d + k]!));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale > 0) for (let k = 0; k < d; k++) codes[r * d + k] = Math.round(x[r * d + k]! / scale);
  }
  return { codes, scales };
}

function dequantise(q: Quantised, d: number): Float32Array {
  const out = new Float32Array(q.codes.length);
  for (let r = 0; r < q.scales.length; r++) {
    const s = q.scales[r]!;
    for (let k = 0; k < d; k++) out[r * d + k] = q.codes[r * d + k]! * s;
  }
  return out;
}
