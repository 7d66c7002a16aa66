/**
 * Numeric kernels for the local deep-memory engine. Everything works on
 * row-major Float32Array matrices with explicit shapes and writes into
 * caller-owned output buffers, so hot loops allocate nothing and a faster
 * backend (WebAssembly SIMD, threads) can replace one function at a time.
 *
 * JS loops accumulate in float64; the SIMD kernel in float32 (relative error
 * around 1e-6 at 1,536 dimensions, far below what changes a ranking).
 */
import type { AdamConfig } from "./adamw.js";
import { createSimdMatmul, type SimdMatmul } from "./wasm-simd.js";
import { createSimdCorpus } from "./wasm-simd-corpus.js";
import { createSimdKeyScan, cutoff, selectNearest } from "./wasm-simd-key-scan.js";


/** Dot product of `length` elements starting at the given offsets. */
export function dot(a: Float32Array, b: Float32Array, length = a.length, aOffset = 0, bOffset = 0): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  // Four independent sums let the CPU overlap the multiply-adds.
  for (; k + 3 < length; k += 4) {
    s0 += a[aOffset + k]! * b[bOffset + k]!;
    s1 += a[aOffset + k + 1]! * b[bOffset + k + 1]!;
    s2 += a[aOffset + k + 2]! * b[bOffset + k + 2]!;
    s3 += a[aOffset + k + 3]! * b[bOffset + k + 3]!;
  }
  for (; k < length; k++) s0 += a[aOffset + k]! * b[bOffset + k]!;
  return s0 + s1 + s2 + s3;
}

/** y[yOffset..] += alpha * x[xOffset..] over `length` elements. */
export function axpy(alpha: number, x: Float32Array, y: Float32Array, length = x.length, xOffset = 0, yOffset = 0): void {
  for (let k = 0; k < length; k++) y[yOffset + k]! += alpha * x[xOffset + k]!;
}

let simd: SimdMatmul | null | undefined;
/** Products smaller than this many multiply-adds stay in JS: copying into wasm memory would cost more. */
const simdMinWork = 16384;

/** Whether matmulTransB runs on WebAssembly SIMD in this runtime (decided on first use). */
export function simdAvailable(): boolean {
  if (simd === undefined) simd = createSimdMatmul();
  return simd !== null;
}

/**
 * out (m x n) = A (m x k) * B (n x k)^T: every row of A dotted with every row
 * of B. Scoring questions against chunks is the dominant cost of training and
 * every other product is arranged to go through here too, so this is the one
 * kernel worth speeding up: WebAssembly SIMD where available, else plain JS.
 */
export function matmulTransB(a: Float32Array, b: Float32Array, m: number, n: number, k: number, out: Float32Array): void {
  if (m * n * k >= simdMinWork && simdAvailable()) simd!.abt(a, b, m, n, k, out);
  else matmulTransBScalar(a, b, m, n, k, out);
}

/**
 * Plain-JS matmulTransB: B is walked in tiles that stay in cache while every
 * row of A passes over them, and four rows of B share each load of A.
 */
export function matmulTransBScalar(a: Float32Array, b: Float32Array, m: number, n: number, k: number, out: Float32Array): void {
  // About 128 KiB of B per tile: fits L2 on anything current.
  const tile = Math.max(4, (Math.floor(32768 / Math.max(1, k)) >> 2) << 2);
  for (let j0 = 0; j0 < n; j0 += tile) {
    const j1 = Math.min(n, j0 + tile);
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      const oi = i * n;
      let j = j0;
      for (; j + 3 < j1; j += 4) {
        const b0 = j * k;
        const b1 = b0 + k;
        const b2 = b1 + k;
        const b3 = b2 + k;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ai + p]!;
          s0 += x * b[b0 + p]!;
          s1 += x * b[b1 + p]!;
          s2 += x * b[b2 + p]!;
          s3 += x * b[b3 + p]!;
        }
        out[oi + j] = s0;
        out[oi + j + 1] = s1;
        out[oi + j + 2] = s2;
        out[oi + j + 3] = s3;
      }
      for (; j < j1; j++) out[oi + j] = dot(a, b, k, ai, j * k);
    }
  }
}

/**
 * The corpus as the training loops read it: scored whole (mining) or row by
 * row through index lists (hard negatives, validation candidates).
 */
export interface CorpusKernels {
  /** out (rows x corpus size) = x (rows x d) * corpus^T. */
  scoreAll(x: Float32Array, rows: number, out: Float32Array): void;
  /** out[r * count + j] = x_r . corpus[idx[r * count + j]]; a negative index gives 0. */
  gatherDots(x: Float32Array, rows: number, idx: Int32Array, count: number, out: Float32Array): void;
  /** y_r += sum_j coef[r * count + j] * corpus[idx[r * count + j]]; negative indexes are skipped. */
  gatherAxpys(y: Float32Array, rows: number, idx: Int32Array, count: number, coef: Float32Array): void;
  /**
   * Like scoreAll over the query's length, on int16 codes (relative error
   * about 1e-4): for shortlisting, with the shortlist then scored exactly.
   * Absent where there is no faster backend than scoreAll (plain JS).
   */
  rankingScores?(x: Float32Array, rows: number, out: Float32Array): void;
  /** A training step with its buffers resident beside the corpus; absent where the kernels have no such backend (plain JS). */
  trainingStep?(source: StepSource): TrainingStep;
}

/** What a training step reads: the questions, their projections on the basis, and the shapes. */
export interface StepSource {
  /** Training questions, row-major (count x d). */
  queries: Float32Array;
  /** Their coordinates on the question basis, Vt q (count x rank). */
  z: Float32Array;
  rank: number;
  /** Most examples in one batch. */
  batch: number;
  /** Mined negatives per question. */
  pool: number;
}

/**
 * A batch's scores, valid until the next forward: question i against batch
 * column j at i * stride + j, against its m-th negative at
 * i * negativeStride + m. The trainer masks a candidate by writing -Infinity.
 */
export interface StepBuffers {
  scores: Float32Array;
  negativeScores: Float32Array;
  stride: number;
  negativeStride: number;
}

/**
 * One optimisation step of the residual transform over a batch: forward
 * gives q' = normalize(q + U z) and its scores, which the trainer masks;
 * backward takes the softmax cross-entropy over the unmasked candidates
 * (logits score / temperature), its gradient of U and an AdamW step.
 */
export interface TrainingStep {
  /** `count` questions (rows of the source) against `columnCount` distinct chunks and each one's `pool` negatives (-1: none). */
  forward(rows: Int32Array, count: number, columns: Int32Array, columnCount: number, negatives: Int32Array): StepBuffers;
  /** Question i's answer is batch column targets[i]. One AdamW step of U on the mean loss; returns the summed loss. */
  backward(count: number, columnCount: number, targets: Int32Array, temperature: number, adam: AdamConfig): number;
  /** The current U (d x rank, row-major) into `out`. */
  readWeights(out: Float32Array): void;
}

/** CorpusKernels over a row-major corpus: resident in wasm memory with SIMD where possible, else plain JS. */
export function corpusKernels(corpus: Float32Array, count: number, d: number, options: { simd?: boolean } = {}): CorpusKernels {
  return (options.simd !== false && createSimdCorpus(corpus, count, d)) || new JsCorpusKernels(corpus, count, d);
}

/**
 * A question memory's keys as a query scans them: a sign bit per dimension
 * (ceil(d / 8) bytes a key) to shortlist by Hamming distance, int8 codes (d a
 * key) to score the shortlist. Both are resident in wasm memory where SIMD
 * is available; the JS loops give the same shortlist.
 */
export interface KeyScan {
  /**
   * Up to `limit` keys of the (from, to) pairs in `ranges` (the first
   * `rangeCount`), nearest `queryBits` by Hamming distance: every key below
   * the cut-off distance, then those at it in scan order. Ids into `out`;
   * returns how many.
   */
  shortlist(queryBits: Uint8Array, ranges: Int32Array, rangeCount: number, limit: number, out: Int32Array): number;
  /** out[j] = query . codes of key ids[j], over int8 codes (exact integers). */
  dots(query: Int8Array, ids: Int32Array, count: number, out: Int32Array): void;
}

export function keyScan(bits: Uint8Array, codes: Int8Array, rows: number, d: number, options: { simd?: boolean } = {}): KeyScan {
  return (options.simd !== false && createSimdKeyScan(bits, codes, rows, d)) || new JsKeyScan(bits, codes, rows, d);
}

/** Set bits of every byte value. */
const popcount8 = Uint8Array.from({ length: 256 }, (_, v) => {
  let c = 0;
  for (let x = v; x; x >>= 1) c += x & 1;
  return c;
});

class JsKeyScan implements KeyScan {
  private readonly bytes: number;
  /** Keys scanned (first `rows` entries) and their distances (the next `rows`). */
  private readonly scanned: Int32Array;
  private readonly hist: Int32Array;

  constructor(
    private readonly bits: Uint8Array,
    private readonly codes: Int8Array,
    private readonly rows: number,
    private readonly d: number,
  ) {
    this.bytes = Math.ceil(d / 8);
    this.hist = new Int32Array(this.bytes * 8 + 1);
    this.scanned = new Int32Array(2 * rows);
  }

  shortlist(queryBits: Uint8Array, ranges: Int32Array, rangeCount: number, limit: number, out: Int32Array): number {
    const { bits, bytes, scanned, hist } = this;
    hist.fill(0);
    let count = 0;
    for (let r = 0; r < rangeCount; r++) {
      for (let key = ranges[2 * r]!; key < ranges[2 * r + 1]!; key++) {
        let h = 0;
        for (let b = 0; b < bytes; b++) h += popcount8[queryBits[b]! ^ bits[key * bytes + b]!]!;
        scanned[count] = key;
        scanned[this.rows + count++] = h;
        hist[h]!++;
      }
    }
    return selectNearest(scanned, 0, this.rows, count, cutoff(hist, 0, hist.length, limit), limit, out);
  }

  dots(query: Int8Array, ids: Int32Array, count: number, out: Int32Array): void {
    const { codes, d } = this;
    for (let j = 0; j < count; j++) {
      const row = ids[j]! * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += query[k]! * codes[row + k]!;
      out[j] = s;
    }
  }
}

class JsCorpusKernels implements CorpusKernels {
  constructor(
    private readonly corpus: Float32Array,
    private readonly count: number,
    private readonly d: number,
  ) {}

  scoreAll(x: Float32Array, rows: number, out: Float32Array): void {
    matmulTransB(x, this.corpus, rows, this.count, this.d, out);
  }

  gatherDots(x: Float32Array, rows: number, idx: Int32Array, count: number, out: Float32Array): void {
    const d = this.d;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) {
        const c = idx[r * count + j]!;
        out[r * count + j] = c < 0 ? 0 : dot(x, this.corpus, d, r * d, c * d);
      }
    }
  }

  gatherAxpys(y: Float32Array, rows: number, idx: Int32Array, count: number, coef: Float32Array): void {
    const d = this.d;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) {
        const c = idx[r * count + j]!;
        const w = coef[r * count + j]!;
        if (c >= 0 && w !== 0) axpy(w, this.corpus, y, d, c * d, r * d);
      }
    }
  }
}

/** out (cols x rows) = x (rows x cols)^T. Lets every product run through matmulTransB, the one tuned kernel. */
export function transpose(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = x[o + j]!;
  }
}

/** Scales each of `rows` rows to unit length in place; zero rows stay zero. Returns the original norms. */
export function normalizeRows(x: Float32Array, rows: number, cols: number, norms: Float32Array = new Float32Array(rows)): Float32Array {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const n = Math.sqrt(dot(x, x, cols, o, o));
    norms[i] = n;
    if (n > 0) {
      const inv = 1 / n;
      for (let j = 0; j < cols; j++) x[o + j]! *= inv;
    }
  }
  return norms;
}

/** log(sum(exp(x))) over x[offset..offset+length), stable for large values. */
export function logSumExp(x: Float32Array | Float64Array, offset = 0, length = x.length - offset): number {
  let max = -Infinity;
  for (let j = 0; j < length; j++) if (x[offset + j]! > max) max = x[offset + j]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < length; j++) s += Math.exp(x[offset + j]! - max);
  return max + Math.log(s);
}

/**
 * Replaces x[offset..offset+length) by its softmax and returns the
 * log-sum-exp. -Infinity entries (masked candidates) get probability 0.
 */
export function softmaxInPlace(x: Float32Array | Float64Array, offset = 0, length = x.length - offset): number {
  const lse = logSumExp(x, offset, length);
  for (let j = 0; j < length; j++) x[offset + j] = Math.exp(x[offset + j]! - lse);
  return lse;
}

/**
 * Indexes of the k largest of scores[offset..offset+length), best first; ties
 * go to the lower index so results are deterministic. `skip(index)` drops
 * candidates (for example the query's own positives). Writes at most k
 * entries into outIndex (and outScore) and returns how many were written.
 */
export function topK(
  scores: Float32Array,
  k: number,
  outIndex: Int32Array,
  outScore?: Float32Array,
  offset = 0,
  length = scores.length - offset,
  skip?: (index: number) => boolean,
): number {
  // Insertion into a short sorted list: one comparison per candidate once the
  // list is full, which beats a heap for the k <= ~100 used here.
  let count = 0;
  const vals = outScore ?? new Float32Array(k);
  for (let j = 0; j < length; j++) {
    const s = scores[offset + j]!;
    if (count === k && !(s > vals[k - 1]!)) continue;
    if (s !== s) continue;
    if (skip && skip(j)) continue;
    let pos = count < k ? count : k - 1;
    while (pos > 0 && s > vals[pos - 1]!) {
      vals[pos] = vals[pos - 1]!;
      outIndex[pos] = outIndex[pos - 1]!;
      pos--;
    }
    vals[pos] = s;
    outIndex[pos] = j;
    if (count < k) count++;
  }
  return count;
}

/** Copies `rows` rows of `cols` floats, chosen by `indexes`, from `source` into consecutive rows of `out`. */
export function gatherRows(source: Float32Array, indexes: ArrayLike<number>, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const from = indexes[r]! * cols;
    out.set(source.subarray(from, from + cols), r * cols);
  }
}

/** Packs equal-length vectors into one row-major matrix. */
export function packRows(vectors: readonly Float32Array[], cols: number): Float32Array {
  const out = new Float32Array(vectors.length * cols);
  for (let i = 0; i < vectors.length; i++) out.set(vectors[i]!, i * cols);
  return out;
}

/**
 * Modified Gram-Schmidt over the `rows` rows of x (each `cols` long), in
 * place, done twice for accuracy. A row that is (numerically) a combination
 * of earlier ones is replaced by `fallback(row)` and orthonormalised again,
 * so the result always has orthonormal rows. Requires rows <= cols.
 */
export function orthonormalizeRows(x: Float32Array, rows: number, cols: number, fallback: (row: Float32Array) => void): void {
  for (let i = 0; i < rows; i++) {
    const row = x.subarray(i * cols, (i + 1) * cols);
    for (let attempt = 0; ; attempt++) {
      const before = Math.sqrt(dot(row, row, cols));
      for (let pass = 0; pass < 2; pass++) {
        for (let j = 0; j < i; j++) axpy(-dot(x, x, cols, i * cols, j * cols), x, x, cols, j * cols, i * cols);
      }
      const after = Math.sqrt(dot(row, row, cols));
      if (after > 1e-4 * before && after > 1e-20) {
        const inv = 1 / after;
        for (let k = 0; k < cols; k++) row[k]! *= inv;
        break;
      }
      if (attempt > 8) throw new Error("orthonormalizeRows: could not find an independent direction");
      fallback(row);
    }
  }
}
