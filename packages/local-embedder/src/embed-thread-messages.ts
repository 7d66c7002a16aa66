import { DeepMemoryError, ValidationError } from "@zip/deep-memory";
import { ModelFilesNotFoundError } from "./model-files.js";

export interface EmbedThreadRequest {
  id: number;
  texts: string[];
}

export type EmbedThreadReply =
  | { type: "started"; threadId: number }
  | { type: "vectors"; id: number; vectors: Float32Array[] }
  | { type: "failed"; id: number; error: ErrorDescription };

/** An error as plain data: errors cross a thread boundary without their class. */
export interface ErrorDescription {
  name: string;
  message: string;
  code: string | undefined;
  searched: string[] | undefined;
}

export function describeError(error: unknown): ErrorDescription {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    name: e.name,
    message: e.message,
    code: error instanceof DeepMemoryError ? error.code : undefined,
    searched: error instanceof ModelFilesNotFoundError ? error.searched : undefined,
  };
}

/** The same typed error the embedding code threw on its thread, so hosts can branch on it. */
export function reviveError(error: ErrorDescription): Error {
  if (error.searched !== undefined) return new ModelFilesNotFoundError(error.message, error.searched);
  if (error.code === "VALIDATION_FAILED") return new ValidationError(error.message);
  return new Error(error.message);
}
