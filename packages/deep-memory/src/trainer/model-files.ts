import { createHash } from "node:crypto";
import * as z from "zod";
import { runMetricsSchema, type RunMetrics } from "../domain/metrics.js";
import { ModelFileInvalidError, ModelIncompatibleError, NoTrainedModelError, NotFoundError, StoreError, toDeepMemoryError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { TrainerContext } from "./context.js";
import { embedQueries } from "./corpus.js";
import { encodeModelFile, readModelFile, type ModelFile, type ModelFileHeader } from "./model-file-format.js";
import { runIdSchema, userIdSchema } from "./options.js";

export const exportModelInputSchema = z
  .object({
    userId: userIdSchema,
    /** The run whose model to export; defaults to the model search applies for the user. */
    runId: runIdSchema.optional(),
  })
  .strict();
export type ExportModelInput = z.input<typeof exportModelInputSchema>;

export const importModelInputSchema = z
  .object({
    userId: userIdSchema,
    /** The file's bytes, as `exportModel` made them (a Node Buffer is a Uint8Array). */
    file: z.custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, "expected the file's bytes (Uint8Array, Buffer or ArrayBuffer)"),
    /**
     * Make it the model search applies for the user (when deep memory is
     * enabled), provided its metrics say it beat plain search where it was
     * trained. `false` only stores it: enable it later by training or importing again.
     */
    activate: z.boolean().default(true),
  })
  .strict();
export type ImportModelInput = z.input<typeof importModelInputSchema>;

export interface ImportModelResult {
  /** The run that holds the imported model (a "completed" run with no pairs). */
  runId: string;
  /** True when this exact file had been imported for the user before: nothing was written. */
  alreadyImported: boolean;
  /** True when search now applies this model for the user (once deep memory is enabled). */
  activated: boolean;
  /** Why it was not activated, when it was not. */
  reason: string | null;
  header: ModelFileHeader;
}

/** Recorded as the run's generation model: where its model came from. */
const fileMarker = (sha256: string) => `model-file:${sha256.slice(0, 16)}`;

/** A UUID (version 8, RFC 9562) derived from the user and the file's checksum. */
function importRunId(userId: string, fileSha256: string): string {
  const h = createHash("sha256").update(`deep-memory-model-file\0${userId}\0${fileSha256}`).digest();
  h[6] = 0x80 | (h[6]! & 0x0f);
  h[8] = 0x80 | (h[8]! & 0x3f);
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The trained model of a run as a portable file (see model-file-format.ts):
 * weights plus the engine, dimensions, embedding model, metrics and dates
 * a loader needs to refuse it where it does not fit.
 * @throws NotFoundError for an unknown run (or another user's) or a run without a model.
 * @throws NoTrainedModelError without `runId` when the user has no model yet.
 */
export async function exportModel(ctx: TrainerContext, input: ExportModelInput): Promise<Uint8Array> {
  const { userId, runId: requested } = parseOrThrow(exportModelInputSchema, input, "exportModel input");
  const { store } = ctx.config;
  let runId = requested;
  if (!runId) {
    const settings = await store.getSettings(userId);
    runId = settings?.modelRunId ?? settings?.lastTrainingRunId ?? undefined;
    if (!runId) throw new NoTrainedModelError("No trained deep memory to export: train a run first, or pass its runId");
  }
  const [run, model] = await Promise.all([store.getRun(userId, runId), store.getModel(userId, runId)]);
  if (!run) throw new NotFoundError("run", runId);
  if (!model) throw new NotFoundError("model", runId);
  return encodeModelFile(
    {
      engine: model.engine,
      format: model.format,
      dimensions: model.dimensions,
      embeddingModel: model.embeddingModel,
      metrics: (run.metrics as Record<string, unknown> | null) ?? model.metrics,
      createdAt: model.createdAt.toISOString(),
      exportedAt: ctx.clock().toISOString(),
      source: { runId: run.id, generation: run.generation, pairCount: run.pairCount },
    },
    model.weights,
  );
}

/**
 * Stores a model file as a completed run of the user's, after checking that
 * it is undamaged and fits this trainer: the same engine, the same embedding
 * model (by name) and the same query dimension (one probe embedding). Importing
 * the same file again finds the first import and changes nothing, so an app
 * can import the model it ships on every start.
 * @throws ModelFileInvalidError for a damaged, truncated or foreign file.
 * @throws ModelIncompatibleError for a model made for another embedding model, dimension or engine.
 */
export async function importModel(ctx: TrainerContext, input: ImportModelInput): Promise<ImportModelResult> {
  const { userId, file, activate } = parseOrThrow(importModelInputSchema, input, "importModel input");
  const parsed = readModelFile(file instanceof ArrayBuffer ? new Uint8Array(file) : file);
  const metrics = parseMetrics(parsed.header);
  await assertCompatible(ctx, parsed);

  const { store } = ctx.config;
  const marker = fileMarker(parsed.sha256);
  // One run id per (user, file): replicas importing the same file at once meet on the same row.
  const runId = importRunId(userId, parsed.sha256);
  const already = async (): Promise<ImportModelResult> => {
    const settings = await store.getSettings(userId);
    const activated = settings?.modelRunId === runId;
    return { runId, alreadyImported: true, activated, reason: activated ? null : "this file was imported before; its run is not the user's current model", header: parsed.header };
  };
  let run = await store.getRun(userId, runId);
  if (run?.status === "completed") return already();

  const now = ctx.clock();
  if (!run) {
    try {
      // Created "failed" (inert: nothing resumes or trains it) and completed once the model is stored,
      // so a crash in between leaves no half-imported run that looks usable; importing again finishes it.
      run = await store.createRun(
        {
          id: runId,
          userId,
          status: "failed",
          totalChunks: 0,
          existingChunks: 0,
          generation: { ...parsed.header.source.generation, model: marker },
          generateJobId: null,
          leaseOwner: null,
          leaseExpiresAt: null,
        },
        now,
      );
    } catch (error) {
      // Another process created it a moment ago: finish or join its import.
      run = await store.getRun(userId, runId);
      if (!run) throw error;
      if (run.status === "completed") return already();
    }
  }
  const createdAt = new Date(parsed.header.createdAt);
  try {
    await store.saveModel({
      runId,
      userId,
      engine: parsed.header.engine,
      format: parsed.header.format,
      dimensions: parsed.header.dimensions,
      embeddingModel: parsed.header.embeddingModel,
      weights: parsed.weights,
      metrics: { ...parsed.header.metrics, modelFile: { sha256: parsed.sha256, source: parsed.header.source, exportedAt: parsed.header.exportedAt, importedAt: now.toISOString() } },
      createdAt,
    });
    const done = await store.updateRun(
      userId,
      runId,
      { status: "completed", metrics, error: null, failedPhase: null, generatedAt: createdAt, completedAt: now },
      { status: ["failed"] },
      now,
    );
    if (!done) {
      // A concurrent import of the same file completed it first.
      if ((await store.getRun(userId, runId))?.status === "completed") return already();
      throw new StoreError(`Run ${runId} changed while its model file was imported`);
    }
  } catch (error) {
    const failure = toDeepMemoryError(error);
    await store
      .updateRun(userId, runId, { error: `The model-file import failed (${failure.message}); import the file again` }, { status: ["failed"] }, ctx.clock())
      .catch(() => {
        // The store is down; the run stays failed and a second import of the file reuses it.
      });
    throw failure;
  }

  const improved = metrics.verdict === "improved";
  const activated = activate && improved;
  if (activated) await store.saveSettings(userId, { modelRunId: runId, lastTrainingRunId: runId, lastTrainedAt: createdAt }, ctx.clock());
  const reason = activated
    ? null
    : !improved
      ? `Not activated: where it was trained, the model did not beat plain search (${metrics.reason})`
      : "Not activated: imported with activate: false";
  return { runId, alreadyImported: false, activated, reason, header: parsed.header };
}

function parseMetrics(header: ModelFileHeader): RunMetrics {
  const result = runMetricsSchema.safeParse(header.metrics);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
  throw new ModelFileInvalidError(`Not a usable deep-memory model file: its metrics are incomplete (${fields})`, { details: { problem: "metrics" } });
}

async function assertCompatible(ctx: TrainerContext, file: ModelFile): Promise<void> {
  const { engine, embedder } = ctx.config;
  const { header, weights } = file;
  if (header.engine !== engine.name) {
    throw new ModelIncompatibleError(`The model was trained by the "${header.engine}" engine; this trainer runs "${engine.name}"`, {
      field: "engine",
      expected: engine.name,
      actual: header.engine,
    });
  }
  if (header.embeddingModel !== embedder.model) {
    throw new ModelIncompatibleError(
      `The model was trained on ${header.embeddingModel} embeddings, but this trainer embeds with ${embedder.model}: ` +
        `applied to another model's vectors it would only scramble search. Configure the same embedding model, or train here.`,
      { field: "embeddingModel", expected: embedder.model, actual: header.embeddingModel },
    );
  }
  // The name alone misses a changed output size (OpenAI's `dimensions` option keeps the model name).
  const [probe] = await embedQueries(embedder, ["deep memory model file dimension check"], 1);
  if (probe!.length !== header.dimensions) {
    throw new ModelIncompatibleError(
      `The model transforms ${header.dimensions}-dimensional queries, but ${embedder.model} here makes ${probe!.length}-dimensional ones`,
      { field: "dimensions", expected: probe!.length, actual: header.dimensions },
    );
  }
  try {
    engine.load({ format: header.format, dimensions: header.dimensions, weights });
  } catch (error) {
    throw new ModelIncompatibleError(`This version of the ${engine.name} engine cannot load weights of format "${header.format}": ${(error as Error).message}`, {
      field: "format",
      expected: engine.name,
      actual: header.format,
    });
  }
}
