/**
 * The batch step of fitResidual behind one interface (TrainingStep in
 * kernels.ts): resident in wasm memory beside the corpus where the corpus
 * kernels offer it, else these JS loops, which compute the same thing.
 */
import { createAdamW, type AdamConfig } from "./adamw.js";
import {
  gatherRows,
  matmulTransB,
  transpose,
  type CorpusKernels,
  type StepBuffers,
  type StepSource,
  type TrainingStep,
} from "./kernels.js";

export function createTrainingStep(kernels: CorpusKernels, corpus: Float32Array, d: number, source: StepSource): TrainingStep {
  return kernels.trainingStep?.(source) ?? new JsTrainingStep(kernels, corpus, d, source);
}

/** x_i <- normalize(x_i + source[rows_i]) for i < count, lengths before normalising into norms: one pass per row, no gathered copy. */
function addRowsAndNormalize(x: Float32Array, source: Float32Array, rows: Int32Array, count: number, d: number, norms: Float32Array): void {
  for (let i = 0; i < count; i++) {
    const o = i * d;
    const from = rows[i]! * d;
    let s = 0;
    for (let k = 0; k < d; k++) {
      const v = x[o + k]! + source[from + k]!;
      x[o + k] = v;
      s += v * v;
    }
    const n = Math.sqrt(s);
    norms[i] = n;
    if (n > 0) {
      const inv = 1 / n;
      for (let k = 0; k < d; k++) x[o + k]! *= inv;
    }
  }
}

/**
 * The gradient through y = x / |x| for `count` rows: (g - (g . y) y) / |x|,
 * with y the normalised rows and |x| their norms, written transposed
 * (out is d x count) for the weight-gradient product that follows.
 */
function normalizationBackwardTransposed(g: Float32Array, y: Float32Array, norms: Float32Array, count: number, d: number, out: Float32Array): void {
  for (let i = 0; i < count; i++) {
    const o = i * d;
    let along = 0;
    for (let k = 0; k < d; k++) along += g[o + k]! * y[o + k]!;
    const inv = 1 / norms[i]!;
    for (let k = 0; k < d; k++) out[k * count + i] = (g[o + k]! - along * y[o + k]!) * inv;
  }
}

class JsTrainingStep implements TrainingStep {
  private readonly u: Float32Array;
  private readonly adam;
  private readonly zb: Float32Array;
  private readonly zbT: Float32Array;
  private readonly cb: Float32Array;
  private readonly cbT: Float32Array;
  private readonly qn: Float32Array;
  private readonly norms: Float32Array;
  private readonly grad: Float32Array;
  private readonly gradT: Float32Array;
  private readonly gradU: Float32Array;
  private readonly negatives: Int32Array;
  /** Scores packed count x columnCount, the shape the product writes. */
  private readonly dense: Float32Array;
  private readonly buffers: StepBuffers;
  private readonly coef: Float32Array;
  private readonly negativeCoef: Float32Array;
  private readonly logits: Float64Array;

  constructor(
    private readonly kernels: CorpusKernels,
    private readonly corpus: Float32Array,
    private readonly d: number,
    private readonly source: StepSource,
  ) {
    const { rank: r, batch: b, pool } = source;
    this.u = new Float32Array(d * r);
    this.adam = createAdamW(this.u);
    this.zb = new Float32Array(b * r);
    this.zbT = new Float32Array(r * b);
    this.cb = new Float32Array(b * d);
    this.cbT = new Float32Array(d * b);
    this.qn = new Float32Array(b * d);
    this.norms = new Float32Array(b);
    this.grad = new Float32Array(b * d);
    this.gradT = new Float32Array(d * b);
    this.gradU = new Float32Array(d * r);
    this.negatives = new Int32Array(b * pool);
    this.dense = new Float32Array(b * b);
    this.buffers = { scores: new Float32Array(b * b), negativeScores: new Float32Array(b * pool), stride: b, negativeStride: pool };
    this.coef = new Float32Array(b * b);
    this.negativeCoef = new Float32Array(b * pool);
    this.logits = new Float64Array(b + pool);
  }

  forward(rows: Int32Array, count: number, columns: Int32Array, columnCount: number, negatives: Int32Array): StepBuffers {
    const { d, source } = this;
    const { rank: r, pool } = source;
    const { scores, negativeScores, stride } = this.buffers;
    gatherRows(source.z, rows, count, r, this.zb);
    gatherRows(this.corpus, columns, columnCount, d, this.cb);
    // q' = normalize(q + U z)
    matmulTransB(this.zb, this.u, count, d, r, this.qn);
    addRowsAndNormalize(this.qn, source.queries, rows, count, d, this.norms);
    const dense = this.dense;
    matmulTransB(this.qn, this.cb, count, columnCount, d, dense);
    for (let i = 0; i < count; i++) scores.set(dense.subarray(i * columnCount, (i + 1) * columnCount), i * stride);
    this.negatives.set(negatives.subarray(0, count * pool));
    if (pool > 0) this.kernels.gatherDots(this.qn, count, this.negatives, pool, negativeScores);
    return this.buffers;
  }

  backward(count: number, columnCount: number, targets: Int32Array, temperature: number, adam: AdamConfig): number {
    const { d, source, logits, coef, negativeCoef } = this;
    const { rank: r, pool } = source;
    const { scores, negativeScores, stride } = this.buffers;
    const n = columnCount + pool;
    const scale = 1 / (temperature * count);
    let loss = 0;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < columnCount; j++) logits[j] = scores[i * stride + j]! / temperature;
      for (let m = 0; m < pool; m++) logits[columnCount + m] = negativeScores[i * pool + m]! / temperature;
      // Softmax with one exp per candidate: logits become exp(logit - max), then probabilities times scale.
      const t = targets[i]!;
      const targetLogit = logits[t]!;
      let max = -Infinity;
      for (let j = 0; j < n; j++) if (logits[j]! > max) max = logits[j]!;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(logits[j]! - max);
        logits[j] = e;
        sum += e;
      }
      loss += max + Math.log(sum) - targetLogit;
      const toCoef = scale / sum;
      for (let j = 0; j < columnCount; j++) coef[i * columnCount + j] = logits[j]! * toCoef;
      coef[i * columnCount + t]! -= scale;
      for (let m = 0; m < pool; m++) negativeCoef[i * pool + m] = logits[columnCount + m]! * toCoef;
    }
    // d loss / d q' = sum_j coef_j c_j, then back through the normalisation.
    transpose(this.cb, columnCount, d, this.cbT);
    matmulTransB(coef, this.cbT, count, d, columnCount, this.grad);
    if (pool > 0) this.kernels.gatherAxpys(this.grad, count, this.negatives, pool, negativeCoef);
    // residual = U z, so dU = G^T Z (as (G^T)(Z^T)^T for the one product kernel): G is written transposed.
    normalizationBackwardTransposed(this.grad, this.qn, this.norms, count, d, this.gradT);
    transpose(this.zb, count, r, this.zbT);
    matmulTransB(this.gradT, this.zbT, d, r, count, this.gradU);
    this.adam.step(this.gradU, adam);
    return loss;
  }

  readWeights(out: Float32Array): void {
    out.set(this.u);
  }
}
