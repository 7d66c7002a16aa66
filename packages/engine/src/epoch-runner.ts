/**
 * Passes over the training examples, one batch step at a time: the batch's
 * candidate columns (each distinct answer chunk once), each question's mined
 * negatives, masking of candidates that also answer it, and one AdamW step.
 */
import type { CorpusKernels, TrainingStep } from "./kernels.js";
import type { QuerySet } from "./mining.js";
import type { SeededRandom } from "./random.js";
import { createTrainingStep } from "./training-step.js";

export interface StepSettings {
  batchSize: number;
  learningRate: number;
  temperature: number;
  weightDecay: number;
}

/**
 * Examples are (question, one of its chunks), answers deduplicated per
 * question. `negatives` holds `pool` mined chunks per question (-1 padded).
 */
export class EpochRunner {
  private readonly step: TrainingStep;
  private readonly exampleQuery: Int32Array;
  private readonly exampleChunk: Int32Array;
  private readonly order: Int32Array;
  private readonly batch: number;
  private readonly negIndex: Int32Array;
  private readonly queryRows: Int32Array;
  private readonly columns: Int32Array;
  private readonly target: Int32Array;
  private readonly columnOf: Int32Array;
  private readonly positiveMark: Int32Array;
  private stamp = 0;
  private steps = 0;

  constructor(
    kernels: CorpusKernels,
    corpus: Float32Array,
    d: number,
    private readonly questions: QuerySet,
    z: Float32Array,
    rank: number,
    private readonly negatives: Int32Array,
    private readonly pool: number,
    corpusCount: number,
    private readonly settings: StepSettings,
    private readonly random: SeededRandom,
  ) {
    const queries: number[] = [];
    const chunks: number[] = [];
    for (let q = 0; q < questions.count; q++) {
      for (const p of questions.positives[q]!) {
        queries.push(q);
        chunks.push(p);
      }
    }
    this.exampleQuery = Int32Array.from(queries);
    this.exampleChunk = Int32Array.from(chunks);
    this.order = Int32Array.from(queries, (_, e) => e);
    const B = Math.min(settings.batchSize, Math.max(1, queries.length));
    this.batch = B;
    this.step = createTrainingStep(kernels, corpus, d, { queries: questions.vectors, z, rank, batch: B, pool });
    this.negIndex = new Int32Array(B * pool);
    this.queryRows = new Int32Array(B);
    this.columns = new Int32Array(B);
    this.target = new Int32Array(B);
    this.columnOf = new Int32Array(corpusCount).fill(-1);
    this.positiveMark = new Int32Array(corpusCount).fill(-1);
  }

  get exampleCount(): number {
    return this.exampleQuery.length;
  }

  /**
   * One pass in a fresh seeded order. After each batch `afterBatch` may hand
   * back a promise (to yield, or to judge an earlier epoch); when it resolves
   * to true the pass stops there. Returns the mean loss of the examples seen.
   */
  async run(afterBatch: () => Promise<boolean> | undefined): Promise<{ loss: number; stopped: boolean }> {
    const { pool, negatives, columnOf, positiveMark, columns, queryRows, target, negIndex, exampleQuery, exampleChunk, order } = this;
    const n = exampleQuery.length;
    this.random.shuffle(order);
    let lossSum = 0;
    let seen = 0;
    for (let start = 0; start < n; start += this.batch) {
      const bs = Math.min(this.batch, n - start);
      // Candidate columns: each distinct positive chunk of the batch once.
      let nb = 0;
      for (let i = 0; i < bs; i++) {
        const e = order[start + i]!;
        const chunk = exampleChunk[e]!;
        queryRows[i] = exampleQuery[e]!;
        if (columnOf[chunk]! < 0) {
          columnOf[chunk] = nb;
          columns[nb++] = chunk;
        }
        target[i] = columnOf[chunk]!;
      }
      for (let i = 0; i < bs; i++) {
        const from = queryRows[i]! * pool;
        for (let m = 0; m < pool; m++) negIndex[i * pool + m] = negatives[from + m]!;
      }
      const { scores, negativeScores, stride, negativeStride } = this.step.forward(queryRows, bs, columns, nb, negIndex);
      for (let i = 0; i < bs; i++) {
        const stamp = ++this.stamp;
        for (const p of this.questions.positives[queryRows[i]!]!) positiveMark[p] = stamp;
        const t = target[i]!;
        // Another chunk that also answers this question is not a negative.
        for (let j = 0; j < nb; j++) if (j !== t && positiveMark[columns[j]!] === stamp) scores[i * stride + j] = -Infinity;
        for (let m = 0; m < pool; m++) {
          // Padding, and chunks already present as batch columns, are not candidates twice.
          const c = negIndex[i * pool + m]!;
          if (c < 0 || columnOf[c]! >= 0) negativeScores[i * negativeStride + m] = -Infinity;
        }
      }
      for (let j = 0; j < nb; j++) columnOf[columns[j]!] = -1;
      this.steps++;
      lossSum += this.step.backward(bs, nb, target, this.settings.temperature, {
        learningRate: this.settings.learningRate,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        weightDecay: this.settings.weightDecay,
        step: this.steps,
      });
      seen += bs;
      const pending = afterBatch();
      if (pending && (await pending)) return { loss: lossSum / seen, stopped: true };
    }
    return { loss: n > 0 ? lossSum / n : 0, stopped: false };
  }

  /** The current U (d x rank) into `out`. */
  readWeights(out: Float32Array): void {
    this.step.readWeights(out);
  }
}
