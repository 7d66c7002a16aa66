/**
 * The one table from error code to HTTP status, used by every server adapter.
 * The core's `ErrorCode` union must name exactly these keys (checked where the
 * core imports it), so a new error class cannot miss its status.
 */
export const httpStatusByCode = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  GENERATION_OUTPUT_INVALID: 502,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  RUN_ALREADY_ACTIVE: 409,
  NOTHING_TO_GENERATE: 409,
  // The IETF Idempotency-Key draft: a key reused with another payload is 422.
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_RUN_STATE: 409,
  NO_TRAINED_MODEL: 409,
  MODEL_FILE_INVALID: 400,
  // Well-formed, but made for another embedding model or dimension than the server's.
  MODEL_INCOMPATIBLE: 422,
  RATE_LIMITED: 429,
  UPSTREAM_FAILED: 502,
  TRAINING_FAILED: 500,
  STORE_FAILED: 500,
  // Work stopped because the trainer is shutting down: the client may retry against another instance.
  ABORTED: 503,
  INTERNAL: 500,
} as const;

export type WireErrorCode = keyof typeof httpStatusByCode;
