import { instantiate, pageBytes } from "./wasm-simd.js";

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
