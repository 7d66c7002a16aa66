/**
 * The question memory's storage and index: int8 codes with a scale per row,
 * sign bits around the mean key, and inverted lists made by spherical
 * k-means (see question-memory.ts).
 */
import { matmulTransB, normalizeRows } from "./kernels.js";

/** Below this many keys a query scans all their sign bits (4,096 keys: about 15 us at d = 384). */
export const indexMinKeys = 4096;

/**
 * The k-th largest of `values` (1-based), found by quickselect in place (it
 * reorders them): linear time, where sorting the list scores cost a tenth
 * of a lookup.
 */
export function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target]!;
}

/** Mean of the dequantised keys, accumulated in float64. */
export function meanKey(keys: Quantised, count: number, d: number): Float32Array {
  const sum = new Float64Array(d);
  for (let i = 0; i < count; i++) for (let k = 0; k < d; k++) sum[k]! += keys.codes[i * d + k]! * keys.scales[i]!;
  return Float32Array.from(sum, (v) => v / Math.max(1, count));
}

/** Bit k (byte k / 8, bit k % 8 of `out`) set where row[k] > center[k]. */
export function signBits(row: Float32Array, d: number, center: Float32Array, out: Uint8Array): void {
  out.fill(0, 0, Math.ceil(d / 8));
  for (let k = 0; k < d; k++) if (row[k]! > center[k]!) out[k >> 3]! |= 1 << (k & 7);
}

export interface InvertedLists {
  /** Unit-length list centres, row-major (lists x d). */
  centroids: Float32Array;
  start: Int32Array;
}

/** Lists a query scans: the `probe` share of them, at least 4. */
export function probeCount(lists: number, probe: number): number {
  return Math.min(lists, Math.max(4, Math.ceil(lists * probe)));
}

/**
 * Spherical k-means (cosine, unit centres): seeded with evenly spaced keys,
 * six rounds on at most 16,384 evenly spaced keys, then every key assigned
 * to its nearest centre. Deterministic; an emptied list keeps its old centre.
 */
export function sphericalKMeans(keys: Float32Array, n: number, d: number, lists: number): { assignment: Int32Array; centroids: Float32Array } {
  const centroids = new Float32Array(lists * d);
  for (let l = 0; l < lists; l++) {
    const row = Math.floor((l * n) / lists);
    centroids.set(keys.subarray(row * d, (row + 1) * d), l * d);
  }
  const assign = (rows: Float32Array, count: number, out: Int32Array) => {
    const block = 4096;
    const scores = new Float32Array(block * lists);
    for (let from = 0; from < count; from += block) {
      const m = Math.min(block, count - from);
      matmulTransB(rows.subarray(from * d, (from + m) * d), centroids, m, lists, d, scores);
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let l = 1; l < lists; l++) if (scores[i * lists + l]! > scores[i * lists + best]!) best = l;
        out[from + i] = best;
      }
    }
  };
  const sampleCount = Math.min(n, 16_384);
  const sample = new Float32Array(sampleCount * d);
  for (let i = 0; i < sampleCount; i++) {
    const row = Math.floor((i * n) / sampleCount);
    sample.set(keys.subarray(row * d, (row + 1) * d), i * d);
  }
  const sampleAssignment = new Int32Array(sampleCount);
  const sums = new Float64Array(lists * d);
  const sizes = new Int32Array(lists);
  for (let round = 0; round < 6; round++) {
    assign(sample, sampleCount, sampleAssignment);
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < sampleCount; i++) {
      const l = sampleAssignment[i]!;
      sizes[l]!++;
      for (let k = 0; k < d; k++) sums[l * d + k]! += sample[i * d + k]!;
    }
    for (let l = 0; l < lists; l++) if (sizes[l]! > 0) for (let k = 0; k < d; k++) centroids[l * d + k] = sums[l * d + k]!;
    normalizeRows(centroids, lists, d);
  }
  const assignment = new Int32Array(n);
  assign(keys, n, assignment);
  return { assignment, centroids };
}

export interface Quantised {
  codes: Int8Array;
  scales: Float32Array;
}

/** Symmetric int8 per row: code = round(x / scale), scale = max |x| / 127. */
export function quantise(x: Float32Array, rows: number, d: number): Quantised {
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

export function dequantise(q: Quantised, d: number): Float32Array {
  const out = new Float32Array(q.codes.length);
  for (let r = 0; r < q.scales.length; r++) {
    const s = q.scales[r]!;
    for (let k = 0; k < d; k++) out[r * d + k] = q.codes[r * d + k]! * s;
  }
  return out;
}
