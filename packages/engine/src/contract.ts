/**
 * The DeepMemoryEngine port: what an engine promises the trainer. Defined
 * here, where the engine lives, because the core depends on this package and
 * not the other way round; @zip/deep-memory re-exports these types as its
 * port (ports/deep-memory-engine.ts), so there is one definition.
 */

/** What a training reports; the core's trainingReportSchema validates exactly this shape (checked by its typecheck). */
export interface TrainingReport {
  engine: string;
  epochs: number;
  bestEpoch: number;
  trainQueries: number;
  validationQueries: number;
  baselineValidationRecallAt10: number;
  validationRecallAt10: number;
  /** The question memory kept with the model, where it beat the learned map alone on validation. */
  questionMemory?: { keys: number; chunks: number; weight: number } | undefined;
  wallMs: number;
}

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
  /**
   * The questions are cut from their chunks' text (offline sentence
   * pseudo-queries). A map fitted to them can move real questions away from
   * their answers (fiqa648 dev recall@10 0.888 -> 0.856, dense search), so an
   * engine should learn only what such questions can teach: LocalDeepMemory
   * keeps the map the identity and learns the question memory alone.
   */
  copiedQuestions?: boolean;
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
