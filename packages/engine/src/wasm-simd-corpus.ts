import type { StepBuffers, StepSource, TrainingStep } from "./kernels.js";
import { adamScalars, copyPadded, instantiate, pageBytes, Scratch } from "./wasm-simd.js";

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
