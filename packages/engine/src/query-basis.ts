import { gatherRows, matmulTransB, orthonormalizeRows, transpose } from "./kernels.js";
import type { SeededRandom } from "./random.js";

/** Rows used to find the question basis; more adds time, not accuracy. */
const basisSampleRows = 1024;

/**
 * An orthonormal basis (rows of an r x d matrix) of the subspace the training
 * questions vary in most: randomized subspace iteration on a sample of the
 * question matrix. Learning only U over this fixed basis generalised better
 * than learning both factors, and costs half as much.
 */
export function queryBasis(queries: Float32Array, count: number, d: number, r: number, iterations: number, random: SeededRandom): Float32Array {
  const basis = new Float32Array(r * d);
  const randomRow = (row: Float32Array) => {
    for (let k = 0; k < d; k++) row[k] = random.normal();
  };
  for (let i = 0; i < r; i++) randomRow(basis.subarray(i * d, (i + 1) * d));
  orthonormalizeRows(basis, r, d, randomRow);
  if (iterations === 0 || count === 0) return basis;
  const n = Math.min(count, basisSampleRows);
  const chosen = random.shuffle(Array.from({ length: count }, (_, i) => i)).slice(0, n);
  const sample = new Float32Array(n * d);
  gatherRows(queries, chosen, n, d, sample);
  const sampleT = new Float32Array(d * n);
  transpose(sample, n, d, sampleT);
  const y = new Float32Array(n * r);
  const yT = new Float32Array(r * n);
  for (let it = 0; it < iterations; it++) {
    // basis <- orth((Q basis^T)^T Q): one power step toward the top right singular vectors.
    matmulTransB(sample, basis, n, r, d, y);
    transpose(y, n, r, yT);
    matmulTransB(yT, sampleT, r, d, n, basis);
    orthonormalizeRows(basis, r, d, randomRow);
  }
  return basis;
}
