import type { TrainingReport } from "../domain/metrics.js";

export interface EngineProgress {
  epoch: number;
  epochs: number;
  loss: number;
  /** Recall@10 on the engine's own validation split (carved from the training pairs). */
  validationRecallAt10: number;
}

export interface EngineTrainInput {
  dimensions: number;
  /** Unit-length embeddings of the training questions. */
  queries: Float32Array[];
  /** For each query, indexes into `corpus` of the chunks that answer it. */
  positives: number[][];
  /** Unit-length embeddings of every chunk searched over. */
  corpus: Float32Array[];
  /**
   * Questions the caller held back to choose settings on (epochs, weights):
   * the engine may score them but never trains on or remembers them, so the
   * caller can tune what comes after the engine (hybrid fusion) on the same
   * questions. Without it the engine carves its own validation split.
   */
  validation?: { queries: Float32Array[]; positives: number[][] };
  seed: number;
  signal?: AbortSignal;
  onProgress?: (progress: EngineProgress) => void;
}

export interface EngineModel {
  format: string;
  dimensions: number;
  weights: Uint8Array;
  report: TrainingReport;
}

/** Maps a query embedding to the one to search with. Corpus embeddings never change. */
export interface QueryTransform {
  readonly dimensions: number;
  /** Returns a new unit-length vector; never mutates its input. */
  apply(query: Float32Array): Float32Array;
}

export interface DeepMemoryEngine {
  /** Stored with each model, e.g. "local-residual-linear". */
  readonly name: string;
  train(input: EngineTrainInput): Promise<EngineModel>;
  /** Rebuilds a transform from stored weights; throws ValidationError for a foreign format. */
  load(model: { format: string; dimensions: number; weights: Uint8Array }): QueryTransform;
}
