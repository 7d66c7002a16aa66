/**
 * Large corpora: training reads every answer plus a seeded uniform sample of
 * the other chunks, never the whole corpus. Mining hard negatives costs
 * questions x chunks scanned x d multiply-adds, so on 1,000,000 chunks it
 * would dominate training (10,000 questions at d = 384: 3.8e12, minutes on
 * two cores); against a sample of 100,000, a question's 16 best non-answers
 * stand for about the whole corpus's top 160, still hard negatives. Nothing
 * after mining touches the corpus beyond the sample (validation scores its
 * candidate lists, batches gather their rows), and the model holds no chunk
 * index, so the sampled rows are renumbered 0..n-1 and the fit never knows.
 */
import { SeededRandom } from "./random.js";

export interface CorpusSample {
  /** Original row of each sampled row, ascending. */
  rows: Int32Array;
  /** Sampled row of each original row, -1 where not sampled. */
  position: Int32Array;
}

/** Mixed into the training seed so the sample does not correlate with the split or the batch order. */
const sampleSeedSalt = 0x5a3c1;

/**
 * Rows kept for training out of `count`: every row in `required` and, where
 * that leaves room under `size`, each other row with the same seeded chance,
 * so about `size` in all. Null where the corpus is not larger than `size`
 * (nothing sampled: training reads it whole).
 */
export function sampleCorpusRows(count: number, required: Iterable<number>, size: number, seed: number): CorpusSample | null {
  if (count <= size) return null;
  const keep = new Uint8Array(count);
  let kept = 0;
  for (const row of required) {
    if (keep[row] === 0) kept++;
    keep[row] = 1;
  }
  const chance = Math.max(0, size - kept) / (count - kept);
  const random = new SeededRandom((seed ^ sampleSeedSalt) | 0);
  for (let row = 0; row < count; row++) {
    if (keep[row] === 0 && random.next() < chance) {
      keep[row] = 1;
      kept++;
    }
  }
  const rows = new Int32Array(kept);
  const position = new Int32Array(count).fill(-1);
  let next = 0;
  for (let row = 0; row < count; row++) {
    if (keep[row] === 1) {
      position[row] = next;
      rows[next++] = row;
    }
  }
  return { rows, position };
}
