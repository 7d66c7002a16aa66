import { ValidationError } from "@zip/deep-memory";
import { deepMemoryRoutes, type RouteSpec } from "@zip/deep-memory-protocol";
import type { DeepMemoryTrainerApi } from "./options.js";
import type { IdempotentReply } from "./idempotency.js";
import {
  cancelJobResponse,
  generateResponse,
  importPairsResponse,
  runDetailResponse,
  runListResponse,
  searchResponse,
  settingsResponse,
  statusResponse,
  trainResponse,
} from "./wire.js";

/*
 * What each REST route does once its request has been authenticated and
 * validated against the protocol's schemas: one trainer call, its result in
 * wire form. Framework-free; handler.ts does the HTTP around it.
 */

type Output<S> = S extends { _zod: { output: infer O } } ? O : undefined;

export interface Call<R extends RouteSpec> {
  userId: string;
  params: Output<R["params"]>;
  query: Output<R["query"]>;
  body: Output<R["body"]>;
  /** Where a job's events are served, for `events_url`. */
  eventsUrl: (jobId: string) => string;
}

type Routes = typeof deepMemoryRoutes;
export type RestRouteName = Exclude<keyof Routes, "jobEvents">;
export type RouteActions = { [N in RestRouteName]: (call: Call<Routes[N]>) => Promise<IdempotentReply> };

export function routeActions(trainer: DeepMemoryTrainerApi): RouteActions {
  return {
    async generate({ userId, body, eventsUrl }) {
      if (body.max_pairs !== undefined && body.max_pairs > trainer.options.maxPairs) {
        const message = `must not exceed this server's cap of ${trainer.options.maxPairs}`;
        throw new ValidationError(`Invalid request body: max_pairs: ${message}`, [{ path: "max_pairs", message }]);
      }
      const result = await trainer.generate({
        userId,
        ...(body.questions_per_chunk !== undefined ? { questionsPerChunk: body.questions_per_chunk } : {}),
        ...(body.max_pairs !== undefined ? { maxPairs: body.max_pairs } : {}),
      });
      return { status: 202, body: generateResponse(result, eventsUrl(result.jobId)) };
    },
    async train({ userId, body, eventsUrl }) {
      const result = await trainer.train({ userId, runId: body.training_run_id });
      return { status: 202, body: trainResponse(result, eventsUrl(result.jobId)) };
    },
    async cancelJob({ userId, params, body }) {
      const result = await trainer.cancel({ userId, jobId: params.jobId, ...(body.reason !== undefined ? { reason: body.reason } : {}) });
      return { status: 202, body: cancelJobResponse(result) };
    },
    async importPairs({ userId, body }) {
      const result = await trainer.importPairs({
        userId,
        pairs: body.pairs.map((p) => ({ question: p.question, chunkId: p.chunk_id })),
        ...(body.source !== undefined ? { source: body.source } : {}),
      });
      return { status: 201, body: importPairsResponse(result) };
    },
    async listRuns({ userId, query }) {
      return { status: 200, body: runListResponse(await trainer.listRuns({ userId, limit: query.limit, offset: query.offset })) };
    },
    async getRun({ userId, params }) {
      return { status: 200, body: runDetailResponse(await trainer.getRun({ userId, runId: params.runId })) };
    },
    async getStatus({ userId, params }) {
      return { status: 200, body: statusResponse(await trainer.getStatus({ userId, id: params.id })) };
    },
    async getSettings({ userId }) {
      return { status: 200, body: settingsResponse(await trainer.getSettings({ userId })) };
    },
    async updateSettings({ userId, body }) {
      return { status: 200, body: settingsResponse(await trainer.updateSettings({ userId, enabled: body.enabled })) };
    },
    async search({ userId, body }) {
      return { status: 200, body: searchResponse(body.query, body.k, await trainer.compareSearch({ userId, query: body.query, k: body.k })) };
    },
  };
}
