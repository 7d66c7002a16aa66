/**
 * WebAssembly SIMD (f32x4) versions of the engine's hot kernels: about 20
 * GMAC/s for matmulTransB against about 1.2 for the best plain-JS loop on the
 * same core (Node 20, x86-64, 128 x 5000 x 384 and x 1536). The module is
 * wasm-simd.wat compiled by scripts/build-wasm.mjs into
 * wasm-simd.generated.ts, embedded so the package needs no loader or
 * asset. Every factory returns null where WebAssembly SIMD is unavailable,
 * and callers fall back to the JS kernels.
 *
 * This module loads the module and keeps the small resident kernels (matmul,
 * residual, AdamW); the corpus kernels are in wasm-simd-corpus.ts and the
 * question memory's key scan in wasm-simd-key-scan.ts, over the same
 * instantiate, Scratch and copyPadded.
 */
import type { AdamConfig } from "./adamw.js";
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

export const pageBytes = 65536;
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

/** A fresh instance over its own memory of `initialPages` 64 KiB pages; null where SIMD is unavailable. */
export function instantiate(initialPages: number): { memory: WasmMemory; exports: Exports } | null {
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

/** Bump allocation above a fixed prefix of wasm memory, growing it when needed. */
export class Scratch {
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
export function copyPadded(
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
