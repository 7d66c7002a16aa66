import { DeepMemoryError, UpstreamError, ValidationError } from "../../errors/errors.js";

/** SQLSTATEs caused by the caller's input rather than by the database. */
const invalidInput = new Set(["22P02", "22001", "22003", "22021", "22023", "23502", "23514", "54000"]);

/**
 * The database is the host's vector store, so its failures are UpstreamErrors
 * like any other provider's: a dropped connection, a shutdown or a full pool
 * (retryable) or anything else (not). Bad input is a ValidationError.
 */
export function toPgVectorError(error: unknown, action: string): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : String(error);
  if (invalidInput.has(code)) return new ValidationError(`${action}: ${message}`, [{ path: "", message }], { cause: error });
  // Connection exceptions (08), shutdown / cancel (57), too many connections
  // (53300), serialization failures and deadlocks (40), and node's socket errors.
  const retryable =
    /^(08|57|40)/.test(code) || code === "53300" || /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND)$/.test(code) ||
    /Connection terminated|connection (is )?closed/i.test(message);
  return new UpstreamError("pgvector", `pgvector ${action} failed${code ? ` (${code})` : ""}: ${message}`, { retryable, cause: error });
}
