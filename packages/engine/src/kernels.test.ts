import { describe, expect, it } from "vitest";
import { adamStep, createAdamW } from "./adamw.js";
import {
  axpy,
  corpusKernels,
  keyScan,
  dot,
  gatherRows,
  logSumExp,
  matmulTransB,
  matmulTransBScalar,
  normalizeRows,
  orthonormalizeRows,
  packRows,
  simdAvailable,
  softmaxInPlace,
  topK,
  transpose,
} from "./kernels.js";
import { SeededRandom } from "./random.js";

const random = new SeededRandom(42);
const randomArray = (n: number) => Float32Array.from({ length: n }, () => random.normal());

/** Naive C = A (m x k) * B (k x n) with explicit element accessors. */
function naiveProduct(m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j]! += a(i, p) * b(p, j);
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    if (Math.abs(actual[i]! - expected[i]!) > tolerance * scale) {
      throw new Error(`element ${i}: ${actual[i]} differs from ${expected[i]}`);
    }
  }
}

describe("dot and axpy", () => {
  it("match a naive loop for lengths that are not multiples of four, at offsets", () => {
    const a = randomArray(203);
    const b = randomArray(207);
    for (const length of [0, 1, 3, 4, 7, 200]) {
      let expected = 0;
      for (let k = 0; k < length; k++) expected += a[2 + k]! * b[5 + k]!;
      expect(dot(a, b, length, 2, 5)).toBeCloseTo(expected, 4);
    }
    const y = randomArray(50);
    const expected = Float32Array.from(y);
    for (let k = 0; k < 40; k++) expected[3 + k]! += 0.5 * a[7 + k]!;
    axpy(0.5, a, y, 40, 7, 3);
    expectClose(y, expected, 1e-6);
  });
});

describe("matrix products", () => {
  // Shapes cross the 4-wide and 2 x 4 register tiles, the cache tiles, the
  // wasm copy blocks (512 rows of A, 1,024 of B) and the k % 4 padding.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [17, 200, 384],
    [6, 9, 1536],
    [33, 1030, 45],
    [515, 7, 9],
  ];

  it.each(shapes)("matmulTransB (m=%i, n=%i, k=%i) equals A B^T", (m, n, k) => {
    const a = randomArray(m * k);
    const b = randomArray(n * k);
    const naive = naiveProduct(m, n, k, (i, p) => a[i * k + p]!, (p, j) => b[j * k + p]!);
    const out = randomArray(m * n);
    matmulTransB(a, b, m, n, k, out);
    expectClose(out, naive);
    const scalar = randomArray(m * n);
    matmulTransBScalar(a, b, m, n, k, scalar);
    expectClose(scalar, naive);
  });

  it("runs on WebAssembly SIMD in this runtime (Node 20+)", () => {
    expect(simdAvailable()).toBe(true);
  });

  it("transpose swaps rows and columns", () => {
    const x = randomArray(7 * 5);
    const out = new Float32Array(5 * 7);
    transpose(x, 7, 5, out);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 5; j++) expect(out[j * 7 + i]).toBe(x[i * 5 + j]);
  });
});

// d = 37: five bytes of bits (padded to the kernel's 48) and codes padded to 48;
// d = 700: 88 bytes of bits (96 in wasm: 48 from registers, then the loop) and codes padded to 704.
describe.each([37, 700])("keyScan (d = %i)", (d) => {
  const rows = 60;
  const bytes = Math.ceil(d / 8);
  const bits = Uint8Array.from({ length: rows * bytes }, (_, i) => (i * 2654435761) >>> 24);
  const codes = Int8Array.from({ length: rows * d }, (_, i) => ((i * 7919) % 255) - 127);
  const queryBits = Uint8Array.from({ length: bytes }, (_, i) => (i * 40503 + 17) & 255);
  const hamming = (key: number) => {
    let h = 0;
    for (let b = 0; b < bytes; b++) for (let x = queryBits[b]! ^ bits[key * bytes + b]!; x; x >>= 1) h += x & 1;
    return h;
  };
  const ranges = Int32Array.from([2, 9, 20, 21, 30, 60, 0, 0]);
  const scanned = [...Array.from({ length: 7 }, (_, i) => 2 + i), 20, ...Array.from({ length: 30 }, (_, i) => 30 + i)];

  it.each([true, false])("shortlists the keys of the ranges nearest by Hamming distance, ties in scan order (simd: %s)", (simd) => {
    const scan = keyScan(bits, codes, rows, d, { simd });
    for (const limit of [1, 5, 12, 38, 100]) {
      const out = new Int32Array(100).fill(-7);
      const count = scan.shortlist(queryBits, ranges, 3, limit, out);
      // Stable sort by distance gives the same set; the kernel lists those under the cut-off first.
      const expected = [...scanned].sort((a, b) => hamming(a) - hamming(b)).slice(0, limit);
      expect(count).toBe(Math.min(limit, scanned.length));
      const got = Array.from(out.subarray(0, count));
      expect([...got].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
      // Fewer keys than the limit: all of them, in scan order.
      const cut = limit > scanned.length ? Infinity : hamming(expected[expected.length - 1]!);
      const below = got.filter((k) => hamming(k) < cut);
      expect(got.slice(0, below.length)).toEqual(scanned.filter((k) => hamming(k) < cut));
      expect(out[count]).toBe(-7);
    }
  });

  it.each([true, false])("scores picked keys' int8 codes against an int8 query exactly (simd: %s)", (simd) => {
    const scan = keyScan(bits, codes, rows, d, { simd });
    const query = Int8Array.from({ length: d }, (_, k) => ((k * 104729) % 255) - 127);
    const ids = Int32Array.from([59, 0, 17, 17]);
    const out = new Int32Array(5).fill(9);
    scan.dots(query, ids, 4, out);
    const expected = Array.from(ids, (id) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += query[k]! * codes[id * d + k]!;
      return s;
    });
    expect(Array.from(out)).toEqual([...expected, 9]);
  });
});

describe("corpusKernels", () => {
  // d = 37 needs padding to a multiple of 4; 3 gathered rows an odd count.
  const d = 37;
  const count = 101;
  const corpus = randomArray(count * d);
  const row = (c: number) => corpus.subarray(c * d, (c + 1) * d);

  it.each([true, false])("score, gather and scatter rows like naive loops (simd: %s)", (simd) => {
    const kernels = corpusKernels(corpus, count, d, { simd });
    const rows = 5;
    const x = randomArray(rows * d);
    const all = new Float32Array(rows * count);
    kernels.scoreAll(x, rows, all);
    expectClose(all, naiveProduct(rows, count, d, (i, p) => x[i * d + p]!, (p, j) => corpus[j * d + p]!));

    const idx = Int32Array.from([4, -1, 100, 0, 0, 7, 50, 3, -1, 99, 2, 2, 1, 1, 1]);
    const dots = randomArray(rows * 3);
    kernels.gatherDots(x, rows, idx, 3, dots);
    const expectedDots = [...idx].map((c, e) => (c < 0 ? 0 : dot(x, row(c), d, Math.floor(e / 3) * d)));
    expectClose(dots, expectedDots);

    const coef = Float32Array.from(idx, (_, e) => (e % 4 === 0 ? 0 : random.normal()));
    const y = randomArray(rows * d);
    const expectedY = Float64Array.from(y);
    idx.forEach((c, e) => {
      if (c < 0) return;
      const r = Math.floor(e / 3);
      for (let k = 0; k < d; k++) expectedY[r * d + k]! += coef[e]! * corpus[c * d + k]!;
    });
    kernels.gatherAxpys(y, rows, idx, 3, coef);
    expectClose(y, expectedY);
  });

  // d = 42 pads rows to 44 floats: the codes' last eight take four floats and four zeros.
  it.each([37, 42])("gives ranking scores on int16 codes within 1e-4 of the exact score over the query's length, a zero query included (d = %i)", (dims) => {
    const chunks = randomArray(count * dims);
    const kernels = corpusKernels(chunks, count, dims);
    expect(typeof kernels.rankingScores).toBe("function");
    const rows = 3;
    const x = randomArray(rows * dims);
    x.fill(0, 2 * dims);
    const approx = new Float32Array(rows * count);
    kernels.rankingScores!(x, rows, approx);
    const exact = naiveProduct(rows, count, dims, (i, p) => x[i * dims + p]!, (p, j) => chunks[j * dims + p]!);
    for (let i = 0; i < rows; i++) {
      const length = Math.sqrt(dot(x, x, dims, i * dims, i * dims));
      for (let j = 0; j < count; j++) {
        const want = length > 0 ? exact[i * count + j]! / length : 0;
        const chunkLength = Math.sqrt(dot(chunks, chunks, dims, j * dims, j * dims));
        expect(Math.abs(approx[i * count + j]! - want)).toBeLessThan(1e-4 * chunkLength);
      }
    }
  });
});

describe("normalizeRows", () => {
  it("scales rows to unit length, keeps zero rows zero and returns the old norms", () => {
    const x = Float32Array.from([3, 4, 0, 0, 0, 0, 1, 1, 1]);
    const norms = normalizeRows(x, 3, 3);
    expectClose(norms, [5, 0, Math.sqrt(3)], 1e-6);
    expectClose(x, [0.6, 0.8, 0, 0, 0, 0, 1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)], 1e-6);
  });
});

describe("logSumExp and softmax", () => {
  it("match the naive formula and stay finite for large inputs", () => {
    const x = Float64Array.from([0.5, -1, 2, 0]);
    const naive = Math.log([...x].reduce((s, v) => s + Math.exp(v), 0));
    expect(logSumExp(x)).toBeCloseTo(naive, 12);
    expect(logSumExp(Float64Array.from([1000, 1000]))).toBeCloseTo(1000 + Math.log(2), 9);
  });

  it("gives masked (-Infinity) entries probability zero and sums to one", () => {
    const x = Float64Array.from([9, 1, 2, -Infinity, 3, 1]);
    const lse = softmaxInPlace(x, 1, 4);
    expect(lse).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 12);
    expect(x[0]).toBe(9);
    expect(x[4]! + x[3]! + x[2]! + x[1]!).toBeCloseTo(1, 12);
    expect(x[3]).toBe(0);
    expect(x[5]).toBe(1);
    expect(logSumExp(Float64Array.from([-Infinity, -Infinity]))).toBe(-Infinity);
  });
});

describe("topK", () => {
  it("returns the k best like a full sort, ties to the lower index", () => {
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(random.next() * 300);
      // Few distinct values so ties are common.
      const scores = Float32Array.from({ length: n }, () => Math.round(random.normal() * 4) / 4);
      const k = 1 + Math.floor(random.next() * 20);
      const index = new Int32Array(k);
      const value = new Float32Array(k);
      const found = topK(scores, k, index, value);
      const expected = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, k);
      expect(found).toBe(Math.min(k, n));
      expect([...index.subarray(0, found)]).toEqual(expected);
      expect([...value.subarray(0, found)]).toEqual(expected.map((i) => scores[i]));
    }
  });

  it("honours offset, length and skip", () => {
    const scores = Float32Array.from([100, 5, 9, 7, 8, 100]);
    const index = new Int32Array(3);
    const found = topK(scores, 3, index, undefined, 1, 4, (j) => j === 1);
    expect(found).toBe(3);
    // Positions are relative to the offset; position 1 (score 9) is skipped.
    expect([...index]).toEqual([3, 2, 0]);
  });
});

describe("adamStep and createAdamW", () => {
  it.each(["adamStep", "simd", "js"])("match a reference AdamW over several steps (%s)", (variant) => {
    const n = 37;
    const param = randomArray(n);
    const reference = Float64Array.from(param);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const state = { m: new Float32Array(n), v: new Float32Array(n) };
    const optimizer = variant === "adamStep" ? null : createAdamW(param, { simd: variant === "simd" });
    const config = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 };
    for (let step = 1; step <= 5; step++) {
      const grad = randomArray(n);
      if (optimizer) optimizer.step(grad, { ...config, step });
      else adamStep(param, grad, state, { ...config, step });
      for (let i = 0; i < n; i++) {
        m[i] = 0.9 * m[i]! + 0.1 * grad[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * grad[i]! * grad[i]!;
        const mHat = m[i]! / (1 - 0.9 ** step);
        const vHat = v[i]! / (1 - 0.999 ** step);
        reference[i] = reference[i]! - 0.01 * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.1 * reference[i]!);
      }
    }
    expectClose(param, reference, 1e-5);
  });
});

describe("gatherRows and packRows", () => {
  it("copy the chosen rows in order", () => {
    const source = Float32Array.from([0, 1, 10, 11, 20, 21]);
    const out = new Float32Array(6);
    gatherRows(source, [2, 0, 2], 3, 2, out);
    expect([...out]).toEqual([20, 21, 0, 1, 20, 21]);
    expect([...packRows([Float32Array.from([1, 2]), Float32Array.from([3, 4])], 2)]).toEqual([1, 2, 3, 4]);
  });
});

describe("orthonormalizeRows", () => {
  it("returns orthonormal rows spanning the same space as independent input rows", () => {
    const rows = 12;
    const cols = 40;
    const x = randomArray(rows * cols);
    const original = Float32Array.from(x);
    orthonormalizeRows(x, rows, cols, () => {
      throw new Error("independent rows need no fallback");
    });
    const gram = new Float32Array(rows * rows);
    matmulTransB(x, x, rows, rows, cols, gram);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) expect(gram[i * rows + j]!).toBeCloseTo(i === j ? 1 : 0, 5);
    // Every original row lies in the span: projecting it keeps its whole norm.
    const coords = new Float32Array(rows * rows);
    matmulTransB(original, x, rows, rows, cols, coords);
    for (let i = 0; i < rows; i++) {
      const projected = dot(coords, coords, rows, i * rows, i * rows);
      expect(projected / dot(original, original, cols, i * cols, i * cols)).toBeCloseTo(1, 4);
    }
  });

  it("replaces a dependent row through the fallback and still ends orthonormal", () => {
    const cols = 6;
    const x = Float32Array.from([1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    let calls = 0;
    orthonormalizeRows(x, 3, cols, (row) => {
      calls++;
      row.set([0, 0, 1, 1, 0, 0]);
    });
    expect(calls).toBe(1);
    const gram = new Float32Array(9);
    matmulTransB(x, x, 3, 3, cols, gram);
    expectClose(gram, [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-6);
  });
});
