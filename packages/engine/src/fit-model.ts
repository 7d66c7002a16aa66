/**
 * One training, from packed inputs to model bytes: the validation split, the
 * fit and the serialisation. Plain data in, plain data out, so the same
 * function runs on a worker thread (fit-worker.ts) or on the caller's thread
 * (fit-thread.ts) and gives the same bytes either way.
 */
import type { TrainingReport } from "./contract.js";
import { fitResidual, type FitProgress, type FitSettings, type QuerySet } from "./fit-residual.js";
import { SeededRandom } from "./random.js";
import { ResidualTransform } from "./residual-transform.js";

/** Questions packed row-major with their answers in compressed rows: question i's are positiveIndex[positiveStart[i]..positiveStart[i+1]). */
export interface PackedQuestions {
  vectors: Float32Array;
  count: number;
  /** Each question's answers, deduplicated and sorted; a question without any is not used. */
  positiveIndex: Int32Array;
  positiveStart: Int32Array;
}

export interface FitJob {
  dimensions: number;
  /** Corpus rows, packed (corpusCount x dimensions). */
  corpus: Float32Array;
  corpusCount: number;
  questions: PackedQuestions;
  /** Questions the caller holds back: scored to choose epochs and the memory, never trained on or remembered. Null: carve a split. */
  validation: PackedQuestions | null;
  seed: number;
  settings: FitSettings & { validationFraction: number };
}

/** The model and the report's fields the fit knows (the engine name and wall time are the caller's). */
export interface FitOutcome {
  format: string;
  weights: Uint8Array;
  report: Omit<TrainingReport, "engine" | "wallMs">;
}

export interface FitHooks {
  signal?: AbortSignal;
  onProgress?: (progress: FitProgress) => void;
}

/** Questions with at least one answer, in input order: their rows and answers. */
function usableRows(questions: PackedQuestions): number[] {
  const rows: number[] = [];
  for (let q = 0; q < questions.count; q++) if (questions.positiveStart[q + 1]! > questions.positiveStart[q]!) rows.push(q);
  return rows;
}

function toSet(questions: PackedQuestions, rows: readonly number[], d: number): QuerySet {
  const vectors = new Float32Array(rows.length * d);
  rows.forEach((q, i) => vectors.set(questions.vectors.subarray(q * d, (q + 1) * d), i * d));
  return {
    vectors,
    count: rows.length,
    positives: rows.map((q) => questions.positiveIndex.slice(questions.positiveStart[q], questions.positiveStart[q + 1])),
  };
}

export async function fitModel(job: FitJob, hooks: FitHooks = {}): Promise<FitOutcome> {
  const d = job.dimensions;
  const random = new SeededRandom(job.seed);
  const usable = usableRows(job.questions);
  let trainRows: number[];
  let validation: QuerySet;
  if (job.validation) {
    trainRows = usable;
    validation = toSet(job.validation, usableRows(job.validation), d);
  } else {
    // Seeded split by question, not by chunk: users later ask about the same
    // chunks the questions were generated from, so validation should too.
    // (Grouping by chunk made validation stop at the identity on SciFact.)
    const order = random.shuffle(usable.map((_, i) => i));
    const validationCount = Math.min(usable.length - 1, Math.max(1, Math.round(job.settings.validationFraction * usable.length)));
    const isValidation = new Uint8Array(usable.length);
    for (const i of order.slice(0, validationCount)) isValidation[i] = 1;
    trainRows = usable.filter((_, i) => !isValidation[i]);
    validation = toSet(
      job.questions,
      usable.filter((_, i) => isValidation[i]),
      d,
    );
  }
  const train = toSet(job.questions, trainRows, d);

  const fit = await fitResidual({
    dimensions: d,
    corpus: job.corpus,
    corpusCount: job.corpusCount,
    train,
    validation,
    // Caller-held questions are never remembered; a carved split joins the memory once its weight is chosen.
    rememberValidation: job.validation === null,
    settings: job.settings,
    random,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
  });

  const transform = new ResidualTransform(d, fit.rank, fit.u, fit.vt, { memory: fit.memory });
  return {
    format: transform.format,
    weights: transform.toBytes(),
    report: {
      epochs: fit.epochs,
      bestEpoch: fit.bestEpoch,
      trainQueries: train.count,
      validationQueries: validation.count,
      baselineValidationRecallAt10: fit.baselineValidationRecallAt10,
      validationRecallAt10: fit.validationRecallAt10,
      ...(fit.memory ? { questionMemory: { keys: fit.memory.keyCount, chunks: fit.memory.valueCount, weight: Number(fit.memory.parameters.weight.toPrecision(6)) } } : {}),
    },
  };
}
