import { axpy, corpusKernels, keyScan, topK, type CorpusKernels, type KeyScan } from "./kernels.js";
import {
  dequantise,
  indexMinKeys,
  kthLargest,
  meanKey,
  probeCount,
  quantise,
  signBits,
  sphericalKMeans,
  type InvertedLists,
  type Quantised,
} from "./memory-index.js";

/** Per query, the value rows of its nearest keys and their attention weights, `width` per query (-1 and 0 pad). */
export interface MemoryLookup {
  value: Int32Array;
  attention: Float32Array;
  width: number;
  /** Per query, the similarity of its nearest key (-Infinity: none), which the gate (`threshold`) compares. */
  nearest: Float32Array;
}

/** How a query reads the memory; stored with the model. */
export interface MemoryParameters {
  /** Keys (training questions) each query attends to: its nearest ones. */
  neighbours: number;
  /** Softmax temperature over the neighbours' cosine similarities. */
  temperature: number;
  /** How far the query is pulled toward the attended chunks (0: not at all). */
  weight: number;
  /** Share of the inverted lists a query scans when the keys have them (1: no lists, every key scanned). */
  probe: number;
  /**
   * A query whose nearest key is less similar than this is not pulled at
   * all (-Infinity, the default: every query is): a question about a chunk
   * no training question was about is left to the learned map.
   */
  threshold?: number;
}

/** What a memory is made of: its int8 keys and values, each key's value row, how queries read it, its lists. */
export interface MemoryContents {
  dimensions: number;
  keys: Quantised;
  values: Quantised;
  valueOf: Int32Array;
  parameters: MemoryParameters;
  lists: InvertedLists | null;
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
 *
 * A query scans the keys by the Hamming distance between sign bits (each
 * dimension above or below the mean key: 48 bytes a key at d = 384, an eighth
 * of int8), keeps the nearest `shortlistSize`, and scores those on their int8
 * codes against the query's. Above `indexMinKeys` keys, the keys are also
 * grouped into about sqrt(n) lists by spherical k-means (an inverted-file
 * index, as in FAISS's IVF) and only the nearest lists are scanned (`probe`,
 * a share of them). On SciFact's 41,888 sentence keys, on one machine, an
 * int8 scan of 35% of the lists cost 0.67 ms a query and this scan of the
 * same lists 0.10-0.12 ms, with the same test figures (see the engine README).
 */
export class QuestionMemory {
  readonly dimensions: number;
  readonly keyCount: number;
  readonly valueCount: number;
  readonly parameters: Required<MemoryParameters>;
  /** Row-major values (valueCount x d), dequantised: what a query is pulled toward. */
  readonly values: Float32Array;
  /** Value row of each key. */
  readonly valueOf: Int32Array;
  private readonly quantisedKeys: Quantised;
  private readonly quantisedValues: Quantised;
  /** Inverted lists: keys are stored grouped by list; list l holds keys start[l]..start[l+1]. */
  readonly lists: InvertedLists | null;
  private centroidKernels: CorpusKernels | null = null;
  private readonly listScores: Float32Array;
  private readonly selectScratch: Float32Array;
  /** The mean key, and each key's sign bits around it (ceil(d / 8) bytes a key). */
  private readonly center: Float32Array;
  private readonly keyBits: Uint8Array;
  private scanner: KeyScan | null = null;
  /** Per lookup: the key ranges scanned, the query's sign bits and int8 codes, the shortlist and its scores. */
  private readonly ranges: Int32Array;
  private readonly queryBits: Uint8Array;
  private readonly queryCodes: Int8Array;
  private readonly shortlist: Int32Array;
  private readonly shortlistDots: Int32Array;
  private readonly shortlistScores: Float32Array;
  private readonly nearest: Int32Array;
  private readonly nearestScores: Float32Array;
  private readonly attention: Float64Array;

  private constructor({ dimensions: d, keys, values, valueOf, parameters, lists }: MemoryContents) {
    this.dimensions = d;
    this.keyCount = valueOf.length;
    this.valueCount = values.scales.length;
    // Stored as float32: the built memory reads exactly the numbers a loaded one will.
    this.parameters = {
      ...parameters,
      temperature: Math.fround(parameters.temperature),
      weight: Math.fround(parameters.weight),
      probe: Math.fround(parameters.probe),
      threshold: Math.fround(parameters.threshold ?? -Infinity),
    };
    this.quantisedKeys = keys;
    this.quantisedValues = values;
    this.values = dequantise(values, d);
    this.valueOf = valueOf;
    this.lists = lists;
    const k = Math.min(parameters.neighbours, this.keyCount);
    const listCount = lists ? lists.start.length - 1 : 0;
    this.listScores = new Float32Array(listCount);
    this.selectScratch = new Float32Array(listCount);
    this.center = meanKey(keys, this.keyCount, d);
    const bytes = Math.ceil(d / 8);
    this.keyBits = new Uint8Array(this.keyCount * bytes);
    const row = new Float32Array(d);
    for (let i = 0; i < this.keyCount; i++) {
      for (let x = 0; x < d; x++) row[x] = keys.codes[i * d + x]! * keys.scales[i]!;
      signBits(row, d, this.center, this.keyBits.subarray(i * bytes, (i + 1) * bytes));
    }
    this.ranges = new Int32Array(2 * Math.max(1, probeCount(listCount, this.parameters.probe)));
    this.queryBits = new Uint8Array(bytes);
    this.queryCodes = new Int8Array(d);
    this.shortlist = new Int32Array(Math.min(this.keyCount, shortlistSize(d)));
    this.shortlistDots = new Int32Array(this.shortlist.length);
    this.shortlistScores = new Float32Array(this.shortlist.length);
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
    const n = keyRows.length;
    let keys = new Float32Array(n * d);
    keyRows.forEach((q, i) => keys.set(questions.subarray(q * d, (q + 1) * d), i * d));
    let valueRows = Int32Array.from(valueOf);
    let lists: InvertedLists | null = null;
    if (n >= indexMinKeys && parameters.probe < 1) {
      const count = Math.round(Math.sqrt(n));
      const { assignment, centroids } = sphericalKMeans(keys, n, d, count);
      // Keys grouped by list (stable within a list), so each list is one contiguous run.
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => assignment[a]! - assignment[b]! || a - b);
      const grouped = new Float32Array(n * d);
      order.forEach((from, to) => grouped.set(keys.subarray(from * d, (from + 1) * d), to * d));
      keys = grouped;
      valueRows = Int32Array.from(order, (from) => valueOf[from]!);
      const start = new Int32Array(count + 1);
      for (const a of assignment) start[a + 1]!++;
      for (let l = 0; l < count; l++) start[l + 1]! += start[l]!;
      lists = { centroids, start };
    }
    const values = new Float32Array(valueRow.size * d);
    for (const [chunk, row] of valueRow) values.set(corpus.subarray(chunk * d, (chunk + 1) * d), row * d);
    return new QuestionMemory({ dimensions: d, keys: quantise(keys, n, d), values: quantise(values, valueRow.size, d), valueOf: valueRows, parameters, lists });
  }

  /** A memory from its stored parts, as question-memory-format.ts reads them (already checked there). */
  static fromContents(contents: MemoryContents): QuestionMemory {
    return new QuestionMemory(contents);
  }

  /** The parts a model stores (shared, not copied): what question-memory-format.ts writes. */
  contents(): MemoryContents {
    const { dimensions, quantisedKeys: keys, quantisedValues: values, valueOf, parameters, lists } = this;
    return { dimensions, keys, values, valueOf, parameters, lists };
  }

  /**
   * For each of `rows` queries (row-major), the value rows of its nearest
   * keys and their attention weights, `neighbours` per query (fewer keys:
   * padded with value -1, weight 0).
   */
  lookup(queries: Float32Array, rows: number): MemoryLookup {
    const d = this.dimensions;
    const width = this.parameters.neighbours;
    const value = new Int32Array(rows * width).fill(-1);
    const attention = new Float32Array(rows * width);
    const nearest = new Float32Array(rows).fill(-Infinity);
    for (let i = 0; i < rows; i++) {
      const found = this.nearestKeys(queries.subarray(i * d, (i + 1) * d));
      if (found > 0) nearest[i] = this.nearestScores[0]!;
      for (let j = 0; j < found; j++) {
        value[i * width + j] = this.valueOf[this.nearest[j]!]!;
        attention[i * width + j] = this.attention[j]!;
      }
    }
    return { value, attention, width, nearest };
  }

  /** out += weight * sum_i a_i value_i for one raw (untransformed) query, unless its nearest key is below the threshold. */
  pull(query: Float32Array, out: Float32Array): void {
    if (this.parameters.weight === 0 || this.keyCount === 0) return;
    const found = this.nearestKeys(query);
    if (found === 0 || this.nearestScores[0]! < this.parameters.threshold) return;
    const d = this.dimensions;
    for (let j = 0; j < found; j++) axpy(this.parameters.weight * this.attention[j]!, this.values, out, d, this.valueOf[this.nearest[j]!]! * d, 0);
  }

  /** What `pull` adds, for every row of a `lookup` at once and at any weight and threshold: out row i += weight * sum_j a_ij value_ij. */
  pullRows(near: MemoryLookup, weight: number, out: Float32Array, threshold = -Infinity): void {
    const d = this.dimensions;
    const rows = near.value.length / near.width;
    const gate = Math.fround(threshold);
    for (let i = 0; i < rows; i++) {
      if (near.nearest[i]! < gate) continue;
      for (let j = 0; j < near.width; j++) {
        const v = near.value[i * near.width + j]!;
        if (v >= 0) axpy(weight * near.attention[i * near.width + j]!, this.values, out, d, v * d, i * d);
      }
    }
  }

  /**
   * One query's nearest keys into `nearest`, their softmax weights into
   * `attention`. The keys scanned (all, or the probed lists') are
   * shortlisted by the Hamming distance of their sign bits to the query's (48
   * bytes a key at d = 384, an eighth of int8's), then the shortlist is
   * scored on int8 codes and the best `neighbours` attended to.
   */
  private nearestKeys(query: Float32Array): number {
    const d = this.dimensions;
    let rangeCount = 1;
    if (this.lists) {
      rangeCount = this.probeRanges(query);
    } else {
      this.ranges[0] = 0;
      this.ranges[1] = this.keyCount;
    }
    signBits(query, d, this.center, this.queryBits);
    this.scanner ??= keyScan(this.keyBits, this.quantisedKeys.codes, this.keyCount, d);
    const short = this.scanner.shortlist(this.queryBits, this.ranges, rangeCount, this.shortlist.length, this.shortlist);
    let qmax = 0;
    for (let k = 0; k < d; k++) {
      const v = query[k]!;
      if (v > qmax) qmax = v;
      else if (-v > qmax) qmax = -v;
    }
    const toCode = qmax > 0 ? 127 / qmax : 0;
    for (let k = 0; k < d; k++) this.queryCodes[k] = Math.round(query[k]! * toCode);
    this.scanner.dots(this.queryCodes, this.shortlist, short, this.shortlistDots);
    const fromCode = qmax / 127;
    const keyScales = this.quantisedKeys.scales;
    for (let j = 0; j < short; j++) this.shortlistScores[j] = this.shortlistDots[j]! * keyScales[this.shortlist[j]!]! * fromCode;
    const found = this.attend(this.shortlistScores, 0, short);
    for (let j = 0; j < found; j++) this.nearest[j] = this.shortlist[this.nearest[j]!]!;
    return found;
  }

  /**
   * The key ranges of the `probe` share of lists whose centres are nearest
   * the query, in list order (so the scan, and ties in it, follow key order
   * whatever the scores), neighbouring lists merged; returns how many ranges.
   */
  private probeRanges(query: Float32Array): number {
    const { start, centroids } = this.lists!;
    const lists = start.length - 1;
    this.centroidKernels ??= corpusKernels(centroids, lists, this.dimensions);
    this.centroidKernels.scoreAll(query, 1, this.listScores);
    const probed = this.ranges.length / 2;
    this.selectScratch.set(this.listScores);
    const cut = kthLargest(this.selectScratch, probed);
    let ties = probed;
    for (const score of this.listScores) if (score > cut) ties--;
    let count = 0;
    for (let l = 0; l < lists; l++) {
      const score = this.listScores[l]!;
      if (!(score > cut || (score === cut && ties-- > 0))) continue;
      if (count > 0 && this.ranges[2 * count - 1] === start[l]) {
        this.ranges[2 * count - 1] = start[l + 1]!;
      } else {
        this.ranges[2 * count] = start[l]!;
        this.ranges[2 * count + 1] = start[l + 1]!;
        count++;
      }
    }
    return count;
  }

  /** Nearest of `length` scores into `nearest` (positions), their softmax weights into `attention`; returns how many. */
  private attend(scores: Float32Array, offset: number, length: number): number {
    const found = topK(scores, this.nearest.length, this.nearest, this.nearestScores, offset, length);
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

  /** Sets how far a query is pulled, and from how near a key (stored as float32, as a loaded model reads them): the trainer's choice on validation. */
  setPull(weight: number, threshold = -Infinity): void {
    this.parameters.weight = Math.fround(weight);
    this.parameters.threshold = Math.fround(threshold);
  }

  /** Whether the section needs the gated layout (3): a threshold above -Infinity. */
  get gated(): boolean {
    return this.parameters.threshold > -Infinity;
  }

  /** The keys as float32 rows (keyCount x d), dequantised: a copy, for inspection. */
  dequantisedKeys(): Float32Array {
    return dequantise(this.quantisedKeys, this.dimensions);
  }
}

/**
 * Keys scored on their int8 codes after the Hamming shortlist: 64 at d = 384
 * (SciFact's figures are the same as with 512), more in fewer dimensions,
 * where fewer sign bits tell keys apart less well; the scoring work is the same.
 */
function shortlistSize(d: number): number {
  return Math.max(64, Math.floor(24_576 / d));
}
