export { createDeepMemoryHandler, createJobEventsHandler, type DeepMemoryHandler, type HandleInit } from "./handler.js";
export type { DeepMemoryHandlerOptions, JobEventsHandlerOptions, DeepMemoryTrainerApi, GetUserIdFromRequest } from "./options.js";
export { toHttpError, type HttpError } from "./http-errors.js";
export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, type IdempotencyOptions } from "./idempotency.js";
