/**
 * `@zip/deep-memory-react`: React hooks for a deep-memory admin screen, on
 * the framework-neutral client (also available alone as
 * `@zip/deep-memory-react/client`, without React or "use client").
 */
export * from "./client/index.js";
export * from "./react/index.js";
export type {
  GenerateRequest,
  GenerateResponse,
  TrainResponse,
  RunWire,
  RunDetailResponse,
  RunListResponse,
  RunMetricsWire,
  SamplePairWire,
  RunStatisticsWire,
  SettingsResponse,
  SearchRequest,
  SearchResponse,
  SearchHitWire,
  JobStreamEvent,
  ErrorBody,
} from "@zip/deep-memory-protocol";
