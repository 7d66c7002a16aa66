import * as z from "zod";
import {
  generateOptionsSchema,
  importPairsOptionsSchema,
  listRunsOptionsSchema,
  maxPairsSchema,
  pairSourceSchema,
  runIdSchema as idSchema,
  searchOptionsSchema,
  trainOptionsSchema,
  updateSettingsOptionsSchema,
  userIdSchema,
} from "@zip/deep-memory-protocol";
import { storableText } from "../errors/storable-text.js";
import type { DeepMemoryEngine } from "../ports/deep-memory-engine.js";
import type { Embedder } from "../ports/embedder.js";
import type { JobEventLog } from "../events/job-event-log.js";
import type { JobRunner } from "../ports/job-runner.js";
import type { QuestionGenerator } from "../ports/question-generator.js";
import type { TrainingStore } from "../ports/training-store.js";
import type { VectorStore } from "../ports/vector-store.js";

export const trainerOptionsSchema = z.object({
  /** Questions to aim for per chunk; up to one more is kept when the generator offers it. */
  questionsPerChunk: z.number().int().min(1).max(10).default(4),
  /** Total pairs per run; generation stops cleanly when the cap is reached. */
  maxPairs: maxPairsSchema.default(5000),
  /** Question-generator calls in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Minimum gap between the starts of two generator calls (rate limiting). */
  delayMs: z.number().int().min(0).max(600_000).default(0),
  /** Model name passed to the question generator; defaults to the generator's own. */
  generationModel: z.string().min(1).optional(),
  /** A generator call that takes longer is aborted and retried. */
  requestTimeoutMs: z.number().int().positive().default(60_000),
  /** Retries of a failing provider call (429, 5xx, timeouts) before the run fails. */
  retries: z.number().int().min(0).max(20).default(5),
  retryMinDelayMs: z.number().int().min(0).default(1000),
  retryMaxDelayMs: z.number().int().min(0).default(60_000),
  /** Attempts per chunk when the generator's output is unusable; then the chunk is skipped. */
  chunkAttempts: z.number().int().min(1).max(10).default(3),
  /** How long a run's lease lasts without a heartbeat; a run whose lease expired is resumed by the next generate. */
  leaseMs: z.number().int().min(100).default(30_000),
  /** Chunks per generation task when a queue (jobRunner) runs jobs: the unit a worker takes and a retry repeats. */
  batchSize: z.number().int().min(1).max(10_000).default(25),
  /** With an event log (`events`), progress is written at most this often per job and process; facts at once. */
  progressIntervalMs: z.number().int().min(0).max(60_000).default(1000),
  /** Fraction of questions held out for evaluation; never used for fitting or early stopping. */
  heldOutFraction: z.number().gt(0).lt(0.5).default(0.1),
  /** Fewer pairs than this and training refuses to start: the held-out measurement would be noise. */
  minPairs: z.number().int().min(2).default(10),
  /** Held-out recall@10 gain a model needs before it may be enabled. */
  minRecallGain: z.number().min(0).default(0),
  seed: z.number().int().default(42),
  /** Chunks per page when enumerating the vector store. */
  pageSize: z.number().int().min(1).max(10_000).default(500),
  /** Texts per embedder call. */
  embedBatchSize: z.number().int().min(1).max(4096).default(256),
  /** Sample pairs returned by getRun for review. */
  samplePairs: z.number().int().min(0).max(1000).default(20),
});
export type TrainerOptions = z.input<typeof trainerOptionsSchema>;
export type ResolvedTrainerOptions = z.output<typeof trainerOptionsSchema>;

const port = <T>(name: string, methods: string[]) =>
  z.custom<T>(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function"),
    `${name} must implement ${methods.join(", ")}`,
  );

export const trainerConfigSchema = z.object({
  vectorStore: port<VectorStore>("vectorStore", ["listChunks", "search"]),
  store: port<TrainingStore>("store", [
    "createRun",
    "getRun",
    "findRunByJobId",
    "findActiveRun",
    "listRuns",
    "updateRun",
    "claimLease",
    "recordChunk",
    "listRecordedChunkIds",
    "listChunkIdsWithPairs",
    "listPairs",
    "getSettings",
    "saveSettings",
    "saveModel",
    "getModel",
  ]),
  embedder: port<Embedder>("embedder", ["embed"]),
  /** Optional when the host only trains from imported pairs. */
  generator: port<QuestionGenerator>("generator", ["generate"]).optional(),
  engine: port<DeepMemoryEngine>("engine", ["train", "load"]),
  options: trainerOptionsSchema.default(trainerOptionsSchema.parse({})),
  /** Time source for stored timestamps and lease expiry; tests move it forward. */
  clock: z.custom<() => Date>((v) => typeof v === "function", "clock must be a function").optional(),
  /**
   * Where jobs run: in this process (the default, no database needed), or
   * through a queue workers take tasks from (`PgBossJobRunner` from
   * `@zip/deep-memory/pg-boss`; needs `events`).
   */
  jobRunner: z
    .custom<JobRunner>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        ((v as JobRunner).kind === "in-process" ||
          ((v as JobRunner).kind === "queue" && ["enqueue", "work", "cancel", "hasPendingWork", "close"].every((m) => typeof (v as unknown as Record<string, unknown>)[m] === "function"))),
      "jobRunner must be { kind: \"in-process\" } or a queue runner (enqueue, work, cancel, hasPendingWork, close)",
    )
    .optional(),
  /**
   * The shared job event log (e.g. `store.jobEventLog()` of the PostgreSQL or
   * PGlite store), so any process streams any job's events. Without it events
   * live in this process's memory.
   */
  events: port<JobEventLog>("events", ["createJob", "append", "getJob", "read", "watch"]).optional(),
  /** Identifies this process in run leases; defaults to host:pid:random. */
  instanceId: z.string().min(1).optional(),
});
export type DeepMemoryTrainerConfig = z.input<typeof trainerConfigSchema>;

// Request limits live in the protocol package: the HTTP API's request schemas
// are derived from the same field schemas, so the two cannot drift.
export { userIdSchema };

export const generateInputSchema = generateOptionsSchema
  .extend({
    userId: userIdSchema,
    concurrency: z.number().int().min(1).max(64).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    model: storableText().min(1).optional(),
  })
  .strict();
export type GenerateInput = z.input<typeof generateInputSchema>;

export const trainInputSchema = trainOptionsSchema.extend({ userId: userIdSchema }).strict();
export type TrainInput = z.input<typeof trainInputSchema>;

export const evaluateInputSchema = z
  .object({
    userId: userIdSchema,
    queries: z.array(storableText().min(1)).min(1),
    /** Per query: [chunkId, score] pairs; score > 0 counts as relevant. */
    relevance: z.array(z.array(z.tuple([storableText().min(1), z.number()]))),
    topK: z.array(z.number().int().min(1).max(1000)).min(1).default([1, 3, 5, 10, 50, 100]),
    /** Which run's model to evaluate; defaults to the model search uses, else the last trained. */
    runId: idSchema.optional(),
  })
  .strict()
  .refine((v) => v.queries.length === v.relevance.length, {
    message: "queries and relevance must have the same length",
    path: ["relevance"],
  });
export type EvaluateInput = z.input<typeof evaluateInputSchema>;

export const searchInputSchema = searchOptionsSchema
  .extend({
    userId: userIdSchema,
    /** "auto" follows the user's setting; "on"/"off" force it (for admin comparisons). */
    deepMemory: z.enum(["auto", "on", "off"]).default("auto"),
  })
  .strict();
export type SearchInput = z.input<typeof searchInputSchema>;

export const listRunsInputSchema = listRunsOptionsSchema.extend({ userId: userIdSchema }).strict();
export type ListRunsInput = z.input<typeof listRunsInputSchema>;

export const updateSettingsInputSchema = updateSettingsOptionsSchema.extend({ userId: userIdSchema }).strict();
export type UpdateSettingsInput = z.input<typeof updateSettingsInputSchema>;

export const importPairsInputSchema = importPairsOptionsSchema
  .extend({
    userId: userIdSchema,
    /** Where the pairs come from, e.g. "chat-feedback"; recorded as the run's generation model. */
    source: pairSourceSchema.default("import"),
  })
  .strict();
export type ImportPairsInput = z.input<typeof importPairsInputSchema>;

export { idSchema as runIdSchema };
