import * as z from "zod";
import {
  chunkIdSchema,
  LIMITS,
  listLimitSchema,
  listOffsetSchema,
  cancelReasonSchema,
  maxPairsSchema,
  pairSourceSchema,
  questionsPerChunkSchema,
  questionTextSchema,
  runIdSchema,
  searchKSchema,
  searchQuerySchema,
} from "./limits.js";

/*
 * Request fields in the core's camelCase. The trainer's input schemas extend
 * these (adding the user id, which never comes from the body) and the wire
 * request schemas are these with keys renamed (schemas.ts), so each limit is
 * written once.
 */

export const generateOptionsSchema = z
  .object({
    questionsPerChunk: questionsPerChunkSchema.optional().describe("Questions to aim for per chunk; defaults to the server's setting."),
    maxPairs: maxPairsSchema.optional().describe("Stop after this many pairs; may only lower the server's cap."),
  })
  .strict();

export const trainOptionsSchema = z.object({ runId: runIdSchema }).strict();

export const cancelJobOptionsSchema = z
  .object({ reason: cancelReasonSchema.optional().describe('Why the job was cancelled; stored on the run. Default "cancelled by the user".') })
  .strict();

export const importPairSchema = z.object({ question: questionTextSchema, chunkId: chunkIdSchema }).strict();

export const importPairsOptionsSchema = z
  .object({
    pairs: z.array(importPairSchema).min(1).max(LIMITS.importPairs),
    source: pairSourceSchema.optional().describe('Where the pairs come from, e.g. "chat-feedback".'),
  })
  .strict();

export const searchOptionsSchema = z.object({ query: searchQuerySchema, k: searchKSchema.default(5) }).strict();

export const listRunsOptionsSchema = z.object({ limit: listLimitSchema.default(20), offset: listOffsetSchema.default(0) }).strict();

export const updateSettingsOptionsSchema = z.object({ enabled: z.boolean() }).strict();
