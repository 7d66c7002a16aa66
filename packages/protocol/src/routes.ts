import type { z } from "zod";
import {
  generateRequestSchema,
  generateResponseSchema,
  importPairsRequestSchema,
  importPairsResponseSchema,
  jobEventsQuerySchema,
  jobIdParamsSchema,
  listRunsQuerySchema,
  runDetailResponseSchema,
  runIdParamsSchema,
  runListResponseSchema,
  searchRequestSchema,
  searchResponseSchema,
  settingsResponseSchema,
  statusParamsSchema,
  statusResponseSchema,
  trainRequestSchema,
  trainResponseSchema,
  cancelJobRequestSchema,
  cancelJobResponseSchema,
  updateSettingsRequestSchema,
} from "./schemas.js";

/**
 * The routes of the deep-memory HTTP API, relative to where a host mounts
 * them (the plan used /v1/api/deep-memory). Server adapters implement exactly
 * these and the OpenAPI document is generated from them, so the two cannot
 * drift. Paths use OpenAPI's `{param}` syntax.
 */
export interface RouteSpec {
  operationId: string;
  method: "get" | "post" | "put";
  path: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Whether a missing body means `{}` (routes whose fields are all optional). */
  bodyOptional?: boolean;
  response: { status: number; description: string; schema: z.ZodType } | { status: 200; description: string; eventStream: true };
  /** Statuses other than the success one that the route can answer. */
  errors: readonly number[];
}

const auth = [401] as const;
const bodyErrors = [400, 413, 415] as const;

export const deepMemoryRoutes = {
  generate: {
    operationId: "generateTrainingData",
    method: "post",
    path: "/generate",
    summary: "Start generating question/chunk training pairs for the user's knowledge base",
    description:
      "Returns at once with the job to follow. Continues an unfinished run of the user when its worker died; otherwise covers only chunks no completed run covers yet. 409 while a run of the user is active.",
    body: generateRequestSchema,
    bodyOptional: true,
    response: { status: 202, description: "Generation started", schema: generateResponseSchema },
    errors: [...bodyErrors, ...auth, 409, 429, 500],
  },
  train: {
    operationId: "startTraining",
    method: "post",
    path: "/train",
    summary: "Start training deep memory on a generated run",
    description:
      "Trains on the run's pairs plus every earlier completed run's, holding out a fraction for evaluation. 409 unless the run's status is `generated` (or it failed while training); 404 for an unknown run or another user's.",
    body: trainRequestSchema,
    response: { status: 202, description: "Training started", schema: trainResponseSchema },
    errors: [...bodyErrors, ...auth, 404, 409, 500],
  },
  cancelJob: {
    operationId: "cancelJob",
    method: "post",
    path: "/jobs/{jobId}/cancel",
    summary: "Cancel a generate or train job",
    description:
      "Stops the job promptly (calls to the LLM in flight and a training thread included) and stores its run as failed with the reason: POST /generate resumes a cancelled generation where it stopped, POST /train trains a cancelled training run again. The job's event stream ends with a `cancelled` event. A job running in another server process stops within its lease renewal interval (`stopped: false`). 404 for an unknown job or another user's; 409 when the job has finished.",
    params: jobIdParamsSchema,
    body: cancelJobRequestSchema,
    bodyOptional: true,
    response: { status: 202, description: "The job was cancelled", schema: cancelJobResponseSchema },
    errors: [...bodyErrors, ...auth, 404, 409, 500],
  },
  importPairs: {
    operationId: "importPairs",
    method: "post",
    path: "/import",
    summary: "Store real question/chunk pairs (e.g. from chat feedback) as a run ready to train",
    body: importPairsRequestSchema,
    response: { status: 201, description: "Run created with status `generated`", schema: importPairsResponseSchema },
    errors: [...bodyErrors, ...auth, 409, 500],
  },
  listRuns: {
    operationId: "listRuns",
    method: "get",
    path: "/runs",
    summary: "The user's training runs, newest first",
    query: listRunsQuerySchema,
    response: { status: 200, description: "One page of runs", schema: runListResponseSchema },
    errors: [400, ...auth, 500],
  },
  getRun: {
    operationId: "getRun",
    method: "get",
    path: "/runs/{runId}",
    summary: "One run with sample pairs and statistics, for review before training",
    params: runIdParamsSchema,
    response: { status: 200, description: "The run", schema: runDetailResponseSchema },
    errors: [400, ...auth, 404, 500],
  },
  getStatus: {
    operationId: "getStatus",
    method: "get",
    path: "/status/{id}",
    summary: "Progress of a run, by job id or run id",
    params: statusParamsSchema,
    response: { status: 200, description: "The run's status", schema: statusResponseSchema },
    errors: [400, ...auth, 404, 500],
  },
  getSettings: {
    operationId: "getSettings",
    method: "get",
    path: "/settings",
    summary: "Whether deep memory is on for the user, and whether it can be",
    response: { status: 200, description: "The settings", schema: settingsResponseSchema },
    errors: [...auth, 500],
  },
  updateSettings: {
    operationId: "updateSettings",
    method: "put",
    path: "/settings",
    summary: "Turn deep memory on or off",
    description: "409 when enabling without a completed run whose model beat plain search on held-out questions.",
    body: updateSettingsRequestSchema,
    response: { status: 200, description: "The settings after the change", schema: settingsResponseSchema },
    errors: [...bodyErrors, ...auth, 409, 500],
  },
  search: {
    operationId: "compareSearch",
    method: "post",
    path: "/search",
    summary: "Top chunks with and without deep memory, side by side",
    body: searchRequestSchema,
    response: { status: 200, description: "Both result lists", schema: searchResponseSchema },
    errors: [...bodyErrors, ...auth, 429, 500, 502],
  },
  jobEvents: {
    operationId: "streamJobEvents",
    method: "get",
    path: "/events/stream/{jobId}",
    summary: "Live progress of a job as Server-Sent Events",
    description:
      "Each message has `id:` (the job's event sequence), `event:` (the event type) and `data:` (JSON). Send `Last-Event-ID` (or `?last_event_id=`) to get exactly the events after it. Comments are sent as heartbeats; the stream closes after the terminal event. For a job that ran in another process, one synthesized `completed`/`failed` event, or a `status` snapshot while it still runs there, is sent before the stream closes.",
    params: jobIdParamsSchema,
    query: jobEventsQuerySchema,
    response: { status: 200, description: "The event stream", eventStream: true },
    errors: [400, ...auth, 404],
  },
} as const satisfies Record<string, RouteSpec>;

export type DeepMemoryRouteName = keyof typeof deepMemoryRoutes;
