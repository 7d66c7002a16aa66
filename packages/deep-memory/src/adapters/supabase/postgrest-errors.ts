import { StoreError, ValidationError, type DeepMemoryError } from "../../errors/errors.js";

/** What every supabase-js query resolves to, reduced to the fields we read. */
export interface PostgrestResult {
  data: unknown;
  error: { code: string; message: string; details?: string | null; hint?: string | null } | null;
  count?: number | null;
  status: number;
}

/** SQLSTATEs caused by the caller's input rather than by the database. */
const invalidInputCodes = new Set(["22P02", "22001", "22003", "22007", "22008", "22023", "23502", "23514"]);

/**
 * Turns a PostgREST error into one of ours. A failed fetch (status 0), a
 * gateway or database outage, or anything unexpected is a StoreError: the
 * trainer marks the run failed and resumes it later.
 */
export function fromPostgrestError(result: PostgrestResult, action: string): DeepMemoryError {
  const error = result.error ?? { code: "", message: "no error body" };
  const where = result.status === 0 ? "network error" : `HTTP ${result.status}${error.code ? `, ${error.code}` : ""}`;
  if (invalidInputCodes.has(error.code)) {
    return new ValidationError(`${action}: ${error.message}`, [{ path: "", message: error.message }], { cause: error });
  }
  // The schema functions' own errors (run not found, lease held): same as the other stores.
  if (error.code === "DM001" || error.code === "DM002") return new StoreError(error.message, { cause: error });
  return new StoreError(`${action} failed (${where}): ${error.message}`, {
    cause: error,
    details: { status: result.status, code: error.code || undefined },
  });
}
