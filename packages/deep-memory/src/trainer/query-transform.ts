import * as z from "zod";
import { parseOrThrow } from "../errors/validation.js";
import { normalize } from "../evaluation/vector-math.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { TrainerContext } from "./context.js";
import { userIdSchema } from "./options.js";
import type { Retrieval } from "./search.js";

/**
 * For hosts that search with their own client (a LangChain retriever, raw
 * pgvector SQL): the user's deep memory as a function of the query
 * embedding, so they never go through `trainer.search`.
 */

export const getQueryTransformInputSchema = z
  .object({
    userId: userIdSchema,
    /** "auto" follows the user's setting; "on" applies the model even when the user turned it off (admin comparisons). */
    deepMemory: z.enum(["auto", "on"]).default("auto"),
  })
  .strict();
export type GetQueryTransformInput = z.input<typeof getQueryTransformInputSchema>;

export interface QueryTransformLookup {
  /** Null when no model applies: search with the plain query embedding. */
  transform: QueryTransform | null;
  /** The run whose model `transform` is. */
  modelRunId: string | null;
  /** Why no model applies, when none does. */
  reason: string | null;
}

const finiteVector = z.custom<Float32Array | number[]>(
  (v) =>
    (v instanceof Float32Array || (Array.isArray(v) && v.every((x) => typeof x === "number"))) &&
    v.length > 0 &&
    Array.prototype.every.call(v, Number.isFinite),
  "must be a non-empty Float32Array or number[] of finite numbers",
);

export const applyDeepMemoryInputSchema = z
  .object({
    userId: userIdSchema,
    /** The query's embedding from the same embedding model the trainer uses (any length scale). */
    embedding: finiteVector,
    deepMemory: z.enum(["auto", "on", "off"]).default("auto"),
  })
  .strict();
export type ApplyDeepMemoryInput = z.input<typeof applyDeepMemoryInputSchema>;

export interface ApplyDeepMemoryResult {
  /** The vector to search with: transformed (unit length) when deep memory applied, else the input unchanged. */
  embedding: Float32Array;
  deepMemory: { used: boolean; modelRunId: string | null; reason: string | null };
}

export async function getQueryTransform(ctx: TrainerContext, retrieval: Retrieval, input: GetQueryTransformInput): Promise<QueryTransformLookup> {
  const { userId, deepMemory } = parseOrThrow(getQueryTransformInputSchema, input, "getQueryTransform input");
  const settings = await ctx.config.store.getSettings(userId);
  if (deepMemory === "auto" && !settings?.enabled) return { transform: null, modelRunId: null, reason: "deep memory is disabled for this user" };
  const model = await retrieval.activeModel(userId, settings);
  if ("reason" in model) return { transform: null, modelRunId: null, reason: model.reason };
  return { transform: model.transform, modelRunId: model.modelRunId, reason: null };
}

/**
 * The embedding to search with for this user: the deep-memory-transformed
 * query when a model applies, the input unchanged otherwise (with the reason).
 * A model of another dimension than the query is not applied, as `search`
 * does not apply a model of another embedding model.
 */
export async function applyDeepMemory(ctx: TrainerContext, retrieval: Retrieval, input: ApplyDeepMemoryInput): Promise<ApplyDeepMemoryResult> {
  const { userId, embedding, deepMemory } = parseOrThrow(applyDeepMemoryInputSchema, input, "applyDeepMemory input");
  const query = Float32Array.from(embedding);
  if (deepMemory === "off") {
    return { embedding: query, deepMemory: { used: false, modelRunId: null, reason: "deep memory was turned off for this search" } };
  }
  const { transform, modelRunId, reason } = await getQueryTransform(ctx, retrieval, { userId, deepMemory });
  if (!transform) return { embedding: query, deepMemory: { used: false, modelRunId: null, reason } };
  if (transform.dimensions !== query.length) {
    return {
      embedding: query,
      deepMemory: {
        used: false,
        modelRunId: null,
        reason: `The model of run ${modelRunId} transforms ${transform.dimensions}-dimensional queries, but this query has ${query.length} dimensions: embed queries with the trainer's embedding model (${ctx.config.embedder.model})`,
      },
    };
  }
  // The engine was trained on unit-length queries (the trainer normalises every embedding it makes).
  return { embedding: transform.apply(normalize(query)), deepMemory: { used: true, modelRunId, reason: null } };
}
