export { createDeepMemoryRouter, createJobEventsRouter, type DeepMemoryRouterOptions } from "./router.js";
export type { DeepMemoryTrainerApi, GetUserId, JobEventsOptions } from "./context.js";
export { supabaseAuth, bearerToken, type SupabaseAuthOptions } from "./supabase-auth.js";
export { toHttpError, requestFailure, type HttpError } from "./http-errors.js";
export { jsonErrorHandler, jsonNotFound, methodNotAllowed, type JsonErrorHandlerOptions } from "./express-errors.js";
