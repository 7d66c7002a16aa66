/**
 * WebAssembly SIMD (f32x4) versions of the engine's hot kernels: about 20
 * GMAC/s for matmulTransB against about 1.2 for the best plain-JS loop on the
 * same core (Node 20, x86-64, 128 x 5000 x 384 and x 1536). The module is
 * wasm-simd.wat compiled by scripts/build-wasm.mjs into
 * wasm-simd.generated.ts, embedded so the package needs no loader or
 * asset. Every factory returns null where WebAssembly SIMD is unavailable,
 * and callers fall back to the JS kernels.
 */
import type { AdamConfig } from "./adamw.js";
import type { StepBuffers, StepSource, TrainingStep } from "./kernels.js";
import { wasmSimdBase64 as wasmBase64 } from "./wasm-simd.generated.js";

export interface SimdMatmul {
  /** out (m x n) = A (m x k) * B (n x k)^T, same contract as matmulTransB. */
  abt(a: Float32Array, b: Float32Array, m: number, n: number, k: number, out: Float32Array): void;
}

type AbtExport = (a: number, b: number, m: number, n: number, k: number, out: number, ldo: number) => void;
type Abt1Export = (x: number, b: number, n: number, k: number, out: number) => void;
type GatherDotsExport = (x: number, rows: number, base: number, idx: number, count: number, k: number, out: number) => void;
type GatherAxpysExport = (y: number, rows: number, base: number, idx: number, coef: number, count: number, k: number) => void;
type AdamwExport = (
  param: number,
  grad: number,
  m: number,
  v: number,
  n: number,
  beta1: number,
  beta2: number,
  c2: number,
  epsilon: number,
  decay: number,
  step: number,
) => void;
type HammingShortlistExport = (x: number, codes: number, ranges: number, rangeCount: number, k: number, bits: number, limit: number, hist: number, keys: number, dist: number) => number;
type DotsI8Export = (x: number, codes: number, ids: number, n: number, k: number, out: number) => void;
type AddNormalizeExport = (x: number, s: number, rows: number, k: number, norms: number) => void;
type NormBackwardExport = (g: number, y: number, norms: number, rows: number, k: number) => void;
type WeightedRowsExport = (w: number, wr: number, wc: number, b: number, m: number, n: number, k: number, out: number) => void;
type SoftmaxRowsExport = (
  scores: number,
  s: number,
  n: number,
  neg: number,
  ns: number,
  pool: number,
  rows: number,
  invTau: number,
  scale: number,
  coef: number,
  negCoef: number,
  sums: number,
  maxes: number,
) => void;
type AbtI16Export = (a: number, b: number, m: number, n: number, k: number, out: number, ldo: number, scale: number) => void;
type QuantizeRowsExport = (x: number, k: number, rows: number, codes: number, ldc: number, scales: number) => void;
interface Exports {
  abt_i16: AbtI16Export;
  quantize_rows: QuantizeRowsExport;
  softmax_rows: SoftmaxRowsExport;
  add_normalize: AddNormalizeExport;
  norm_backward: NormBackwardExport;
  weighted_rows: WeightedRowsExport;
  abt: AbtExport;
  abt1: Abt1Export;
  hamming_shortlist: HammingShortlistExport;
  dots_i8: DotsI8Export;
  gather_dots: GatherDotsExport;
  gather_axpys: GatherAxpysExport;
  adamw: AdamwExport;
}

/** The slice of the WebAssembly API used here, typed locally: the package builds without the DOM lib. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const pageBytes = 65536;
/** Rows of A and of B copied into wasm memory per pass; bounds memory whatever the matrix sizes. */
const blockRowsA = 512;
const blockRowsB = 1024;

let compiled: { wasm: WasmApi; module: object } | null | undefined;

/** Compiles the module once per process; null where WebAssembly or its SIMD extension is unavailable. */
function compile(): { wasm: WasmApi; module: object } | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) return null;
    const bytes = Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
    // Fails where SIMD is not supported (old engines), which means: use JS.
    if (!wasm.validate(bytes)) return null;
    compiled = { wasm, module: new wasm.Module(bytes) };
  } catch {
    compiled = null;
  }
  return compiled;
}

/** The compiled module, for a worker thread to instantiate; null where WebAssembly SIMD is unavailable. */
export function simdModule(): object | null {
  return compile()?.module ?? null;
}

function instantiate(initialPages: number): { memory: WasmMemory; exports: Exports } | null {
  const c = compile();
  if (!c) return null;
  try {
    const memory = new c.wasm.Memory({ initial: initialPages });
    const exports = new c.wasm.Instance(c.module, { env: { memory } }).exports as unknown as Exports;
    return { memory, exports };
  } catch {
    return null;
  }
}

/** Returns null where WebAssembly or its SIMD extension is unavailable; callers fall back to plain JS. */
export function createSimdMatmul(): SimdMatmul | null {
  const made = instantiate(16);
  return made && new WasmAbt(made.memory, made.exports.abt);
}

/** w = U (Vt q) for one query at a time, with U and Vt copied into wasm memory once. */
export interface SimdResidual {
  /** Writes U (Vt q) into `out` (length d). */
  residual(query: Float32Array, out: Float32Array): void;
}

/**
 * Keeps a transform's factors resident so applying it copies only the query
 * in and the result out: about 10x faster than the JS loops at d = 384,
 * r = 128. Null where SIMD is unavailable.
 */
export function createSimdResidual(d: number, r: number, u: Float32Array, vt: Float32Array): SimdResidual | null {
  const d4 = (d + 3) & ~3;
  const r4 = (r + 3) & ~3;
  // Layout (floats): query, Vt, z, U, result.
  const qAt = 0;
  const vtAt = qAt + d4;
  const zAt = vtAt + r4 * d4;
  const uAt = zAt + r4;
  const outAt = uAt + d4 * r4;
  const floats = outAt + d4;
  const made = instantiate(Math.ceil((floats * 4) / pageBytes));
  if (!made) return null;
  const mem = new Float32Array(made.memory.buffer);
  copyPadded(vt, 0, r, d, mem, vtAt, r4, d4);
  copyPadded(u, 0, d, r, mem, uAt, d4, r4);
  const gemv = made.exports.abt1;
  return {
    residual(query: Float32Array, out: Float32Array): void {
      mem.set(query, qAt);
      gemv(qAt * 4, vtAt * 4, r4, d4, zAt * 4);
      gemv(zAt * 4, uAt * 4, d4, r4, outAt * 4);
      out.set(mem.subarray(outAt, outAt + d));
    },
  };
}

/** The adamw kernel's arguments after its parameters: bias corrections and decay folded in. */
type AdamScalars = [beta1: number, beta2: number, c2: number, epsilon: number, decay: number, stepSize: number];

export function adamScalars({ learningRate: lr, beta1, beta2, epsilon, weightDecay, step }: AdamConfig): AdamScalars {
  const c1 = 1 / (1 - beta1 ** step);
  const c2 = 1 / (1 - beta2 ** step);
  return [beta1, beta2, c2, epsilon, 1 - lr * weightDecay, lr * c1];
}

/** AdamW over one parameter array whose moments live in wasm memory. */
export interface SimdAdamW {
  /** Updates `param` in place (it must be the array given at creation, unchanged since the last step). */
  step(param: Float32Array, grad: Float32Array, scalars: AdamScalars): void;
}

/**
 * Keeps the parameter and both moments resident, so a step copies the
 * gradient in and the parameter out: about 8x faster than the JS loop for
 * the 49,152 floats of U at d = 384, r = 128. Null where SIMD is unavailable.
 */
export function createSimdAdamW(param: Float32Array): SimdAdamW | null {
  const n = param.length;
  const n4 = (n + 3) & ~3;
  const [paramAt, gradAt, mAt, vAt] = [0, n4, 2 * n4, 3 * n4];
  const made = instantiate(Math.max(1, Math.ceil((4 * n4 * 4) / pageBytes)));
  if (!made) return null;
  const mem = new Float32Array(made.memory.buffer);
  mem.set(param, paramAt);
  const adamw = made.exports.adamw;
  return {
    step(p, grad, scalars) {
      mem.set(grad, gradAt);
      adamw(paramAt * 4, gradAt * 4, mAt * 4, vAt * 4, n4, ...scalars);
      p.set(mem.subarray(paramAt, paramAt + n));
    },
  };
}

/** A corpus matrix read by index in the training loops; see CorpusKernels in kernels.ts. */
export interface SimdCorpus {
  scoreAll(x: Float32Array, rows: number, out: Float32Array): void;
  gatherDots(x: Float32Array, rows: number, idx: Int32Array, count: number, out: Float32Array): void;
  gatherAxpys(y: Float32Array, rows: number, idx: Int32Array, count: number, coef: Float32Array): void;
  rankingScores(x: Float32Array, rows: number, out: Float32Array): void;
  trainingStep(source: StepSource): TrainingStep;
}

/**
 * Copies the corpus into wasm memory once, so scoring against it and reading
 * rows of it by index copy only the small operands. Null where SIMD is
 * unavailable or the corpus does not fit in wasm memory.
 */
export function createSimdCorpus(corpus: Float32Array, count: number, d: number): SimdCorpus | null {
  const k4 = (d + 3) & ~3;
  const n4 = (count + 3) & ~3;
  const k8 = (d + 7) & ~7;
  // Layout (floats): the corpus, its int16 codes for rankingScores (two a
  // float; see quantize_rows in the .wat) and their scales, then scratch.
  const codesAt = n4 * k4;
  const scalesAt = codesAt + (n4 * k8) / 2;
  const corpusFloats = scalesAt + n4;
  // wasm32 addresses 4 GiB; leave room for scratch and refuse giant corpora (JS handles those).
  if (corpusFloats * 4 > 2 ** 31) return null;
  const made = instantiate(Math.ceil((corpusFloats * 4 + 1) / pageBytes));
  if (!made) return null;
  const scratch = new Scratch(made.memory, corpusFloats);
  copyPadded(corpus, 0, count, d, scratch.floats(), 0, n4, k4);
  // The codes are made on the first rankingScores: most users of these kernels (a memory's list centres) never rank.
  let coded = false;
  // Two rows of A (int16) against B rows kept to about 128 KiB a call, as for f32.
  const codeTile = Math.max(4, (Math.floor(65536 / k8) >> 2) << 2);
  const { abt, abt1, abt_i16: abtI16, quantize_rows: quantizeRows, gather_dots: gatherDots, gather_axpys: gatherAxpys, add_normalize: addNormalize, norm_backward: normBackward, weighted_rows: weightedRows, softmax_rows: softmaxRows, adamw } =
    made.exports;
  const tile = Math.max(4, (Math.floor(32768 / k4) >> 2) << 2);

  return {
    scoreAll(x, rows, out) {
      if (rows === 1) {
        // One query (a memory lookup's list centres): the single-row kernel wastes nothing on a padding row.
        const [xAt, outAt] = scratch.reserve([k4, n4]);
        const mem = scratch.floats();
        copyPadded(x, 0, 1, d, mem, xAt, 1, k4);
        abt1(xAt * 4, 0, n4, k4, outAt * 4);
        out.set(mem.subarray(outAt, outAt + count));
        return;
      }
      const rows2 = (rows + 1) & ~1;
      const [xAt, outAt] = scratch.reserve([rows2 * k4, rows2 * n4]);
      const mem = scratch.floats();
      copyPadded(x, 0, rows, d, mem, xAt, rows2, k4);
      for (let t = 0; t < n4; t += tile) abt(xAt * 4, t * k4 * 4, rows2, Math.min(tile, n4 - t), k4, (outAt + t) * 4, n4);
      for (let i = 0; i < rows; i++) out.set(mem.subarray(outAt + i * n4, outAt + i * n4 + count), i * count);
    },
    gatherDots(x, rows, idx, n, out) {
      // The kernel takes index pairs; an odd count gets one dummy column.
      const n2 = (n + 1) & ~1;
      const [xAt, idxAt, outAt] = scratch.reserve([rows * k4, rows * n2, rows * n2]);
      const mem = scratch.floats();
      const ints = scratch.ints();
      copyPadded(x, 0, rows, d, mem, xAt, rows, k4);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n2; j++) {
          const c = j < n ? idx[r * n + j]! : 0;
          ints[idxAt + r * n2 + j] = c < 0 ? 0 : c;
        }
      }
      gatherDots(xAt * 4, rows, 0, idxAt * 4, n2, k4, outAt * 4);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) out[r * n + j] = idx[r * n + j]! < 0 ? 0 : mem[outAt + r * n2 + j]!;
      }
    },
    gatherAxpys(y, rows, idx, n, coef) {
      const [yAt, idxAt, coefAt] = scratch.reserve([rows * k4, rows * n, rows * n]);
      const mem = scratch.floats();
      const ints = scratch.ints();
      copyPadded(y, 0, rows, d, mem, yAt, rows, k4);
      for (let e = 0; e < rows * n; e++) {
        const c = idx[e]!;
        ints[idxAt + e] = c < 0 ? 0 : c;
        mem[coefAt + e] = c < 0 ? 0 : coef[e]!;
      }
      gatherAxpys(yAt * 4, rows, 0, idxAt * 4, coefAt * 4, n, k4);
      for (let r = 0; r < rows; r++) y.set(mem.subarray(yAt + r * k4, yAt + r * k4 + d), r * d);
    },
    rankingScores(x, rows, out) {
      if (!coded) {
        quantizeRows(0, k4, n4, codesAt * 4, k8, scalesAt * 4);
        coded = true;
      }
      const rows2 = (rows + 1) & ~1;
      const [xAt, qAt, qScalesAt, outAt] = scratch.reserve([rows2 * k4, (rows2 * k8) / 2, rows2, rows2 * n4]);
      copyPadded(x, 0, rows, d, scratch.floats(), xAt, rows2, k4);
      // A query's own scale only multiplies all its scores alike: not applied.
      quantizeRows(xAt * 4, k4, rows2, qAt * 4, k8, qScalesAt * 4);
      for (let t = 0; t < n4; t += codeTile) {
        abtI16(qAt * 4, codesAt * 4 + t * k8 * 2, rows2, Math.min(codeTile, n4 - t), k8, (outAt + t) * 4, n4, (scalesAt + t) * 4);
      }
      const mem = scratch.floats();
      for (let i = 0; i < rows; i++) out.set(mem.subarray(outAt + i * n4, outAt + i * n4 + count), i * count);
    },
    trainingStep({ queries, z, rank: r, batch, pool }) {
      // Everything a step touches stays in this memory beside the corpus (the
      // JS version spent over half its time copying and in elementwise loops):
      // U and its AdamW moments, and the batch's buffers, padded to the kernels' shapes.
      const r4 = (r + 3) & ~3;
      const b4 = (batch + 3) & ~3;
      const pool4 = (pool + 3) & ~3;
      const [uAt, mAt, vAt, gradUAt, zAt, qAt, qnAt, cbAt, scoresAt, coefAt, negAt, negScoresAt, negCoefAt, gradAt, normsAt, sumsAt, maxesAt] = scratch.keep([
        k4 * r4, k4 * r4, k4 * r4, k4 * r4, b4 * r4, b4 * k4, b4 * k4, b4 * k4, b4 * b4, b4 * b4, b4 * pool4, b4 * pool4, b4 * pool4, b4 * k4, b4, b4, b4,
      ]);
      // Kept regions may hold an earlier temporary's data; padding must read as zeros.
      scratch.floats().fill(0, uAt, maxesAt + b4);
      const uTile = Math.max(4, (Math.floor(32768 / r4) >> 2) << 2);
      let views: StepBuffers = { scores: new Float32Array(0), negativeScores: new Float32Array(0), stride: b4, negativeStride: pool4 };
      return {
        forward(rows, count, columns, columnCount, negatives): StepBuffers {
          const mem = scratch.floats();
          const ints = scratch.ints();
          for (let i = 0; i < count; i++) {
            const q = rows[i]!;
            mem.set(z.subarray(q * r, (q + 1) * r), zAt + i * r4);
            mem.set(queries.subarray(q * d, (q + 1) * d), qAt + i * k4);
          }
          // Rows past `count` (a short last batch) hold the last full batch's values: finite, and never read back.
          const rows2 = (count + 1) & ~1;
          for (let t = 0; t < k4; t += uTile) abt(zAt * 4, (uAt + t * r4) * 4, rows2, Math.min(uTile, k4 - t), r4, (qnAt + t) * 4, k4);
          addNormalize(qnAt * 4, qAt * 4, count, k4, normsAt * 4);
          for (let j = 0; j < columnCount; j++) mem.copyWithin(cbAt + j * k4, columns[j]! * k4, (columns[j]! + 1) * k4);
          const columns4 = (columnCount + 3) & ~3;
          for (let t = 0; t < columns4; t += tile) abt(qnAt * 4, (cbAt + t * k4) * 4, rows2, Math.min(tile, columns4 - t), k4, (scoresAt + t) * 4, b4);
          // Padding columns take no part in the softmax.
          for (let i = 0; i < count; i++) mem.fill(-Infinity, scoresAt + i * b4 + columnCount, scoresAt + i * b4 + columns4);
          if (pool > 0) {
            for (let i = 0; i < count; i++) {
              for (let m = 0; m < pool; m++) {
                const c = negatives[i * pool + m]!;
                ints[negAt + i * pool4 + m] = c < 0 ? 0 : c;
              }
            }
            gatherDots(qnAt * 4, count, 0, negAt * 4, pool4, k4, negScoresAt * 4);
            for (let i = 0; i < count; i++) {
              for (let m = 0; m < pool; m++) {
                // A missing negative (-1) scores 0, as in the JS kernels, and is never read in backward.
                if (negatives[i * pool + m]! < 0) {
                  mem[negScoresAt + i * pool4 + m] = 0;
                  ints[negAt + i * pool4 + m] = -1;
                }
              }
              mem.fill(-Infinity, negScoresAt + i * pool4 + pool, negScoresAt + (i + 1) * pool4);
            }
          }
          // New views only after the memory grew (a corpus kernel's scratch between batches).
          if (views.scores.buffer !== mem.buffer) {
            views = {
              scores: mem.subarray(scoresAt, scoresAt + b4 * b4),
              negativeScores: mem.subarray(negScoresAt, negScoresAt + b4 * pool4),
              stride: b4,
              negativeStride: pool4,
            };
          }
          return views;
        },
        backward(count, columnCount, targets, temperature, adam) {
          const mem = scratch.floats();
          const ints = scratch.ints();
          const scale = 1 / (temperature * count);
          const columns4 = (columnCount + 3) & ~3;
          softmaxRows(scoresAt * 4, b4, columns4, negScoresAt * 4, pool4, pool4, count, 1 / temperature, scale, coefAt * 4, negCoefAt * 4, sumsAt * 4, maxesAt * 4);
          let loss = 0;
          for (let i = 0; i < count; i++) {
            const t = targets[i]!;
            mem[coefAt + i * b4 + t]! -= scale;
            loss += Math.log(mem[sumsAt + i]!) - (mem[scoresAt + i * b4 + t]! - mem[maxesAt + i]!) / temperature;
          }
          // d loss / d q' = sum_j coef_j c_j (batch columns, then negatives), back through the normalisation.
          weightedRows(coefAt * 4, b4 * 4, 4, cbAt * 4, (count + 3) & ~3, columnCount, k4, gradAt * 4);
          if (pool > 0) {
            // The kernel skips zero coefficients, so a missing negative's index is never read.
            for (let e = 0; e < count * pool4; e++) if (ints[negAt + e]! < 0) mem[negCoefAt + e] = 0;
            gatherAxpys(gradAt * 4, count, 0, negAt * 4, negCoefAt * 4, pool4, k4);
          }
          normBackward(gradAt * 4, qnAt * 4, normsAt * 4, count, k4);
          // dU = G^T Z: the gradient read column-wise as weights on the rows of Z.
          weightedRows(gradAt * 4, 4, k4 * 4, zAt * 4, k4, count, r4, gradUAt * 4);
          adamw(uAt * 4, gradUAt * 4, mAt * 4, vAt * 4, k4 * r4, ...adamScalars(adam));
          return loss;
        },
        readWeights(out) {
          const mem = scratch.floats();
          for (let i = 0; i < d; i++) out.set(mem.subarray(uAt + i * r4, uAt + i * r4 + r), i * r);
        },
      };
    },
  };
}

/**
 * A question memory's keys as a query scans them: one sign bit per dimension
 * to shortlist candidates by Hamming distance, int8 codes to score the
 * shortlist. See KeyScan in kernels.ts.
 */
export interface SimdKeyScan {
  shortlist(queryBits: Uint8Array, ranges: Int32Array, rangeCount: number, limit: number, out: Int32Array): number;
  dots(query: Int8Array, ids: Int32Array, count: number, out: Int32Array): void;
}

/**
 * Keeps both codes resident, so a scan copies in only the query and the
 * ranges. `bits` holds ceil(d / 8) bytes a key, `codes` d. Null where SIMD
 * is unavailable or the keys do not fit.
 */
export function createSimdKeyScan(bits: Uint8Array, codes: Int8Array, rows: number, d: number): SimdKeyScan | null {
  const bitBytes = Math.ceil(d / 8);
  // The kernel compares 48 bytes from registers, then 16 at a time.
  const kb = Math.max(48, (bitBytes + 15) & ~15);
  const k16 = (d + 15) & ~15;
  const n = Math.max(rows, 1);
  const histBins = kb * 8 + 1;
  // Layout (bytes, each region 16-aligned): key bits, key codes, query bits,
  // query codes, ranges (at most one pair a key), histogram, kept keys and
  // their distances, ids to score, scores.
  const sizes = [rows * kb, rows * k16, kb, k16, 8 * n, 4 * histBins, 4 * n, 4 * n, 4 * n + 12, 4 * n + 12];
  const at: number[] = [];
  let end = 0;
  for (const size of sizes) {
    at.push(end);
    end = (end + size + 15) & ~15;
  }
  if (end > 2 ** 31) return null;
  const [bitsAt, codesAt, qbAt, qcAt, rangesAt, histAt, keptAt, distAt, idsAt, scoresAt] = at as [number, number, number, number, number, number, number, number, number, number];
  const made = instantiate(Math.ceil(end / pageBytes));
  if (!made) return null;
  const bytes = new Uint8Array(made.memory.buffer);
  const signed = new Int8Array(made.memory.buffer);
  const ints = new Int32Array(made.memory.buffer);
  for (let r = 0; r < rows; r++) {
    bytes.set(bits.subarray(r * bitBytes, (r + 1) * bitBytes), bitsAt + r * kb);
    signed.set(codes.subarray(r * d, (r + 1) * d), codesAt + r * k16);
  }
  const { hamming_shortlist: hammingShortlist, dots_i8: dotsI8 } = made.exports;
  return {
    shortlist(queryBits, ranges, rangeCount, limit, out) {
      if (limit < 1) return 0;
      bytes.set(queryBits.subarray(0, bitBytes), qbAt);
      ints.set(ranges.subarray(0, 2 * rangeCount), rangesAt / 4);
      ints.fill(0, histAt / 4, histAt / 4 + histBins);
      const kept = hammingShortlist(qbAt, bitsAt, rangesAt, rangeCount, kb, kb * 8, limit, histAt, keptAt, distAt);
      return selectNearest(ints, keptAt / 4, distAt / 4, kept, cutoff(ints, histAt / 4, histBins, limit), limit, out);
    },
    dots(query, ids, count, out) {
      signed.set(query.subarray(0, d), qcAt);
      // The kernel takes ids four at a time; the padding repeats key 0.
      const count4 = (count + 3) & ~3;
      ints.set(ids.subarray(0, count), idsAt / 4);
      ints.fill(0, idsAt / 4 + count, idsAt / 4 + count4);
      dotsI8(qcAt, codesAt, idsAt, count4, k16, scoresAt);
      out.set(ints.subarray(scoresAt / 4, scoresAt / 4 + count));
    },
  };
}

/**
 * From `count` candidates (key ids at ints[keys..], distances at
 * ints[dist..], in scan order): those nearer than `threshold`, then those at
 * it in scan order, up to `limit`, into `out`; returns how many.
 */
export function selectNearest(ints: Int32Array, keys: number, dist: number, count: number, threshold: number, limit: number, out: Int32Array): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (ints[dist + i]! < threshold) out[n++] = ints[keys + i]!;
  for (let i = 0; i < count && n < limit; i++) if (ints[dist + i] === threshold) out[n++] = ints[keys + i]!;
  return n;
}

/** The smallest distance at or below which at least `limit` keys lie (the largest bin where fewer do). */
export function cutoff(hist: Int32Array, offset: number, bins: number, limit: number): number {
  let seen = 0;
  for (let t = 0; t < bins; t++) {
    seen += hist[offset + t]!;
    if (seen >= limit) return t;
  }
  return bins - 1;
}

/** Bump allocation above a fixed prefix of wasm memory, growing it when needed. */
class Scratch {
  private floatView: Float32Array;
  private intView: Int32Array;

  constructor(
    private readonly memory: WasmMemory,
    private start: number,
  ) {
    this.floatView = new Float32Array(memory.buffer);
    this.intView = new Int32Array(memory.buffer);
  }

  /** Offsets (in 4-byte units) of consecutive regions of the given sizes, each 16-byte aligned. */
  reserve<T extends number[]>(sizes: [...T]): { [K in keyof T]: number } {
    const offsets: number[] = [];
    let at = (this.start + 3) & ~3;
    for (const size of sizes) {
      offsets.push(at);
      at = (at + size + 3) & ~3;
    }
    const needed = at * 4;
    if (needed > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / pageBytes));
    }
    // Growing detaches the old buffer, so the views follow it.
    if (this.floatView.buffer !== this.memory.buffer) {
      this.floatView = new Float32Array(this.memory.buffer);
      this.intView = new Int32Array(this.memory.buffer);
    }
    return offsets as { [K in keyof T]: number };
  }

  /** Like reserve, but the regions stay: later reservations start after them. */
  keep<T extends number[]>(sizes: [...T]): { [K in keyof T]: number } {
    const offsets = this.reserve([...sizes, 0]);
    this.start = offsets[offsets.length - 1]!;
    return offsets.slice(0, -1) as { [K in keyof T]: number };
  }

  floats(): Float32Array {
    return this.floatView;
  }

  ints(): Int32Array {
    return this.intView;
  }
}

class WasmAbt implements SimdMatmul {
  private view: Float32Array;

  constructor(
    private readonly memory: WasmMemory,
    private readonly kernel: AbtExport,
  ) {
    this.view = new Float32Array(memory.buffer);
  }

  abt(a: Float32Array, b: Float32Array, m: number, n: number, k: number, out: Float32Array): void {
    // The kernel wants k % 4 == 0, even row counts of A and multiples of four
    // of B; copies are zero-padded to that, which leaves every dot unchanged.
    const k4 = (k + 3) & ~3;
    const mBlock = Math.min(m, blockRowsA);
    const nBlock = Math.min(n, blockRowsB);
    const m2 = (mBlock + 1) & ~1;
    const n4 = (nBlock + 3) & ~3;
    const aAt = 0;
    const bAt = aAt + m2 * k4;
    const outAt = bAt + n4 * k4;
    this.reserve(outAt + m2 * n4);
    const mem = this.view;
    // Rows of B the kernel sweeps per call: about 128 KiB, so they stay in cache while every row of A passes.
    const tile = Math.max(4, (Math.floor(32768 / k4) >> 2) << 2);
    for (let i0 = 0; i0 < m; i0 += mBlock) {
      const rowsA = Math.min(mBlock, m - i0);
      const paddedA = (rowsA + 1) & ~1;
      copyPadded(a, i0, rowsA, k, mem, aAt, paddedA, k4);
      for (let j0 = 0; j0 < n; j0 += nBlock) {
        const rowsB = Math.min(nBlock, n - j0);
        const paddedB = (rowsB + 3) & ~3;
        copyPadded(b, j0, rowsB, k, mem, bAt, paddedB, k4);
        for (let t = 0; t < paddedB; t += tile) {
          const cols = Math.min(tile, paddedB - t);
          this.kernel(aAt * 4, (bAt + t * k4) * 4, paddedA, cols, k4, (outAt + t) * 4, paddedB);
        }
        for (let i = 0; i < rowsA; i++) {
          const from = outAt + i * paddedB;
          out.set(mem.subarray(from, from + rowsB), (i0 + i) * n + j0);
        }
      }
    }
  }

  private reserve(floats: number): void {
    const needed = floats * 4;
    if (needed > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / pageBytes));
    }
    // Growing detaches the old buffer, so the view is refreshed whenever it changed.
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
  }
}

/** Copies `rows` rows of `cols` floats, from row `first` on, into `paddedRows` rows of stride `stride`; zeros elsewhere. */
function copyPadded(
  source: Float32Array,
  first: number,
  rows: number,
  cols: number,
  target: Float32Array,
  at: number,
  paddedRows: number,
  stride: number,
): void {
  if (stride === cols) {
    target.set(source.subarray(first * cols, (first + rows) * cols), at);
  } else {
    for (let r = 0; r < rows; r++) {
      const from = (first + r) * cols;
      target.set(source.subarray(from, from + cols), at + r * stride);
      target.fill(0, at + r * stride + cols, at + (r + 1) * stride);
    }
  }
  target.fill(0, at + rows * stride, at + paddedRows * stride);
}
