import * as z from "zod";

/*
 * The limits of every request, in one place. The core's trainer validates its
 * inputs with the field schemas below and the wire request schemas are derived
 * from the same ones (see request-fields.ts), so a limit cannot differ between
 * what the HTTP API accepts and what the trainer accepts.
 */
export const LIMITS = {
  /** Characters in a user id. */
  userIdLength: 256,
  /** Characters in an id in a URL path (run, job). */
  pathIdLength: 256,
  /** Characters in an imported question (after trimming). */
  questionLength: 500,
  /** Bytes of a chunk id in UTF-8: SQL stores keep chunk ids as text of at most 512 bytes. */
  chunkIdBytes: 512,
  /** Pairs in one import. */
  importPairs: 1_000_000,
  /** Characters in an import's `source`. */
  sourceLength: 100,
  /** Pairs one run may generate. */
  maxPairs: 1_000_000,
  questionsPerChunk: 10,
  /** Characters in a search query (after trimming). */
  queryLength: 8000,
  /** Hits per search list. */
  searchK: 1000,
  /** Runs per page of the run list. */
  listRunsLimit: 100,
  /** Characters in the reason given for cancelling a job. */
  cancelReasonLength: 500,
} as const;

/*
 * PostgreSQL text cannot hold U+0000, and an unpaired UTF-16 surrogate has no
 * UTF-8 form: a store would fail (NUL) or silently change the text (the
 * surrogate). Text that reaches a store is checked at the boundary instead.
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !loneSurrogate.test(value);
}

export const storableTextMessage = "must not contain NUL characters (\\u0000) or unpaired UTF-16 surrogates";

/** A string schema that refuses text no store can keep as it is. */
export function storableText(): z.ZodString {
  return z.string().refine(isStorableText, storableTextMessage);
}

const utf8 = new TextEncoder();

/** The field schemas the trainer's inputs and the wire requests share. */
export const userIdSchema = storableText().trim().min(1, "userId is required").max(LIMITS.userIdLength);
export const questionTextSchema = storableText().trim().min(1).max(LIMITS.questionLength);
export const chunkIdSchema = storableText()
  .min(1)
  .refine((id) => utf8.encode(id).length <= LIMITS.chunkIdBytes, `must be at most ${LIMITS.chunkIdBytes} bytes in UTF-8`);
export const pairSourceSchema = storableText().trim().min(1).max(LIMITS.sourceLength);
export const searchQuerySchema = storableText().trim().min(1, "query is required").max(LIMITS.queryLength);
export const searchKSchema = z.number().int().min(1).max(LIMITS.searchK);
export const questionsPerChunkSchema = z.number().int().min(1).max(LIMITS.questionsPerChunk);
export const maxPairsSchema = z.number().int().min(1).max(LIMITS.maxPairs);
export const listLimitSchema = z.number().int().min(1).max(LIMITS.listRunsLimit);
export const listOffsetSchema = z.number().int().min(0);
export const cancelReasonSchema = storableText().trim().min(1).max(LIMITS.cancelReasonLength);
/** Run and job ids are UUIDs the trainer generated; anything else is a validation error in every store alike. */
export const runIdSchema = z.uuid("must be a run or job id (a UUID)");
