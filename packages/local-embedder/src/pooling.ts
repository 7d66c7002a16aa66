/**
 * Sentence-embedding pooling over a transformer's token outputs, written to
 * match sentence-transformers' `Pooling` and `Normalize` modules so vectors
 * made here line up with vectors a Python host made with the same model.
 */

export type Pooling = "mean" | "cls";

export interface TokenOutputs {
  /** Row-major [batch, sequence, hidden] token embeddings. */
  hidden: Float32Array;
  /** Row-major [batch, sequence] attention mask (1 for real tokens, 0 for padding). */
  mask: ArrayLike<number | bigint>;
  batch: number;
  sequence: number;
  dimensions: number;
}

/** One pooled, unit-length vector per row of the batch. */
export function poolAndNormalize(outputs: TokenOutputs, pooling: Pooling): Float32Array[] {
  const { hidden, mask, batch, sequence, dimensions } = outputs;
  const vectors: Float32Array[] = [];
  for (let row = 0; row < batch; row++) {
    const vector = new Float32Array(dimensions);
    const rowStart = row * sequence * dimensions;
    if (pooling === "cls") {
      vector.set(hidden.subarray(rowStart, rowStart + dimensions));
    } else {
      // Accumulate in float64: sentence-transformers sums in float32, but the
      // difference is far below what the model's own rounding produces.
      const sum = new Float64Array(dimensions);
      let tokens = 0;
      for (let position = 0; position < sequence; position++) {
        if (Number(mask[row * sequence + position]) === 0) continue;
        tokens += 1;
        const offset = rowStart + position * dimensions;
        for (let d = 0; d < dimensions; d++) sum[d]! += hidden[offset + d]!;
      }
      // sentence-transformers clamps the token count at 1e-9 so an all-padding row yields zeros, not NaN.
      const count = Math.max(tokens, 1e-9);
      for (let d = 0; d < dimensions; d++) vector[d] = sum[d]! / count;
    }
    vectors.push(normalize(vector));
  }
  return vectors;
}

/** L2-normalises in place, as torch.nn.functional.normalize does (norm clamped at 1e-12). */
export function normalize(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.max(Math.sqrt(squares), 1e-12);
  for (let d = 0; d < vector.length; d++) vector[d] = vector[d]! / norm;
  return vector;
}
