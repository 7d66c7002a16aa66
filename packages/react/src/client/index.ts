/**
 * `@zip/deep-memory-react/client`: the framework-neutral client of the
 * deep-memory HTTP API. No React; safe in browsers, servers and workers.
 */
export {
  createDeepMemoryClient,
  type DeepMemoryClient,
  type DeepMemoryClientOptions,
  type RequestOptions,
  type InvalidateTarget,
  type FetchLike,
  type HeadersOption,
} from "./client.js";
export { DeepMemoryClientError, type ClientErrorCode, type DeepMemoryClientErrorInit } from "./errors.js";
export { newIdempotencyKey } from "./http.js";
export { Store, type ReadableStore, type Listener } from "./store.js";
export { QueryStore, type QuerySnapshot, type QueryStoreOptions } from "./query-store.js";
export { MutationStore, type MutationSnapshot, type MutationStoreOptions } from "./mutation-store.js";
export { SettingsStore } from "./settings-store.js";
export {
  JobStreamStore,
  type JobStreamSnapshot,
  type JobStreamOptions,
  type JobEventListener,
  type JobError,
  type JobKind,
  type JobPhase,
  type RunStatus,
} from "./job-stream-store.js";
