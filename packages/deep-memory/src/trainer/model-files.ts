import { randomUUID } from "node:crypto";
import * as z from "zod";
import { runMetricsSchema, type RunMetrics } from "../domain/metrics.js";
import type { TrainingRun } from "../domain/run.js";
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

/** The run marker that lets a second import of the same file find the first. */
const fileMarker = (sha256: string) => `model-file:${sha256.slice(0, 16)}`;

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
  const earlier = await findImportRun(ctx, userId, marker);
  if (earlier?.status === "completed" && (await store.getModel(userId, earlier.id))) {
    const settings = await store.getSettings(userId);
    const activated = settings?.modelRunId === earlier.id;
    return { runId: earlier.id, alreadyImported: true, activated, reason: activated ? null : "this file was imported before; its run is not the user's current model", header: parsed.header };
  }

  const now = ctx.clock();
  // Created "failed" (inert: nothing resumes or trains it) and completed once the model is stored,
  // so a crash in between leaves no half-imported run that looks usable; importing again finishes it.
  const run =
    (earlier?.status === "failed" ? earlier : null) ??
    (await store.createRun(
      {
        id: randomUUID(),
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
    ));
  const createdAt = new Date(parsed.header.createdAt);
  try {
    await store.saveModel({
      runId: run.id,
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
      run.id,
      { status: "completed", metrics, error: null, failedPhase: null, generatedAt: createdAt, completedAt: now },
      { status: ["failed"] },
      now,
    );
    if (!done) throw new StoreError(`Run ${run.id} changed while its model file was imported`);
  } catch (error) {
    const failure = toDeepMemoryError(error);
    await store
      .updateRun(userId, run.id, { error: `The model-file import failed (${failure.message}); import the file again` }, { status: ["failed"] }, ctx.clock())
      .catch(() => {
        // The store is down; the run stays failed and a second import of the file reuses it.
      });
    throw failure;
  }

  const improved = metrics.verdict === "improved";
  const activated = activate && improved;
  if (activated) await store.saveSettings(userId, { modelRunId: run.id, lastTrainingRunId: run.id, lastTrainedAt: createdAt }, ctx.clock());
  const reason = activated
    ? null
    : !improved
      ? `Not activated: where it was trained, the model did not beat plain search (${metrics.reason})`
      : "Not activated: imported with activate: false";
  return { runId: run.id, alreadyImported: false, activated, reason, header: parsed.header };
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

async function findImportRun(ctx: TrainerContext, userId: string, marker: string): Promise<TrainingRun | null> {
  let fallback: TrainingRun | null = null;
  for (let offset = 0; ; offset += 100) {
    const { runs, total } = await ctx.config.store.listRuns(userId, { limit: 100, offset });
    for (const run of runs) {
      if (run.generation.model !== marker) continue;
      if (run.status === "completed") return run;
      fallback ??= run.status === "failed" ? run : null;
    }
    if (offset + 100 >= total || runs.length === 0) return fallback;
  }
}
