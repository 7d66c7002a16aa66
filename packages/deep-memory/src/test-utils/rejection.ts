import { DeepMemoryError } from "../errors/errors.js";

/**
 * The DeepMemoryError a promise rejects with, for asserting on its `code`.
 * Throws, failing the test in any runner, when the promise resolves or rejects
 * with anything else.
 */
export async function deepMemoryRejection(promise: Promise<unknown>): Promise<DeepMemoryError> {
  try {
    await promise;
  } catch (error) {
    if (DeepMemoryError.isInstance(error)) return error;
    throw new Error(`expected a DeepMemoryError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a rejection with a DeepMemoryError, but the promise resolved");
}
