import * as z from "zod";
import { httpStatusByCode, type WireErrorCode } from "./error-codes.js";

/** Every code a server may put in an error body, with its HTTP status (the core's one table). */
export const ERROR_CODES = Object.keys(httpStatusByCode) as WireErrorCode[];
export { httpStatusByCode };

export const fieldIssueSchema = z.object({
  /** Dotted path of the offending field in the request (wire names), or "(root)". */
  path: z.string(),
  message: z.string(),
});
export type FieldIssueWire = z.infer<typeof fieldIssueSchema>;

/**
 * Every non-2xx JSON response. `code` is stable and machine-readable;
 * `message` is for people; `details` never carries stacks or internals
 * (VALIDATION_FAILED puts its field errors in `details.issues`).
 */
export const errorBodySchema = z.object({
  error: z.object({
    // A plain string so a client keeps working when a newer server adds a code.
    code: z.string().describe(`One of ${ERROR_CODES.join(", ")}`),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Builds an error body; `details.issues` for field errors. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
