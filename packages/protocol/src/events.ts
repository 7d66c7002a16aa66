import * as z from "zod";
import { runMetricsSchema } from "./domain/metrics.js";
import {
  chunkSkippedEventSchema,
  jobCompletedEventSchema,
  jobCancelledEventSchema,
  jobFailedEventSchema,
  jobKindSchema,
  jobProgressEventSchema,
  jobStartedEventSchema,
  type JobEvent,
} from "./domain/events.js";
import { runMetricsWireSchema, statusResponseSchema } from "./schemas.js";
import { toWire, wireSchema } from "./wire-case.js";

/*
 * Job events on the wire: the core's event union with snake_case keys. Each
 * is one SSE message whose `id:` is `seq`, `event:` is `type` and `data:` is
 * the JSON below.
 */

export const startedWireEventSchema = wireSchema(jobStartedEventSchema);
export const progressWireEventSchema = wireSchema(jobProgressEventSchema);
export const chunkSkippedWireEventSchema = wireSchema(chunkSkippedEventSchema);

/**
 * The `seq` (and SSE id) of a terminal event the server rebuilt from the
 * stored run, because the job ran in another process (or before a restart)
 * and its live history is gone. It is above any real seq, so a client that
 * reconnects with it as Last-Event-ID is told the stream is over (204).
 */
export const SYNTHESIZED_EVENT_SEQ = Number.MAX_SAFE_INTEGER;

/** Error code of a synthesized `failed` event: the original code was not stored, the message was. */
export const RUN_FAILED_CODE = "RUN_FAILED";

/** Terminal events; `synthesized: true` marks one rebuilt from the stored run (see SYNTHESIZED_EVENT_SEQ). */
export const completedWireEventSchema = wireSchema(jobCompletedEventSchema).extend({
  metrics: runMetricsWireSchema.optional(),
  synthesized: z.boolean().optional(),
});
export const failedWireEventSchema = wireSchema(jobFailedEventSchema).extend({ synthesized: z.boolean().optional() });
export const cancelledWireEventSchema = wireSchema(jobCancelledEventSchema).extend({ synthesized: z.boolean().optional() });

/**
 * Sent instead of live events when the job is still running in another
 * process (or was abandoned there): a snapshot of the run, after which the
 * server ends the stream. An EventSource reconnects after `retry:`, so the
 * client keeps getting fresh snapshots until a terminal event. Has no `id:`.
 */
export const statusWireEventSchema = z.object({
  type: z.literal("status"),
  job_id: z.string(),
  training_run_id: z.string(),
  kind: jobKindSchema.nullable(),
  at: z.iso.datetime(),
  status: statusResponseSchema,
});

/** The events a job emits, as they appear on the wire. */
export const jobWireEventSchema = z.discriminatedUnion("type", [
  startedWireEventSchema,
  progressWireEventSchema,
  chunkSkippedWireEventSchema,
  completedWireEventSchema,
  failedWireEventSchema,
  cancelledWireEventSchema,
]);
export type JobWireEvent = z.infer<typeof jobWireEventSchema>;

/** Everything an event stream can carry. */
export const jobStreamEventSchema = z.discriminatedUnion("type", [...jobWireEventSchema.options, statusWireEventSchema]);
export type JobStreamEvent = z.infer<typeof jobStreamEventSchema>;
export type JobStreamEventType = JobStreamEvent["type"];
export type JobStreamEventOf<T extends JobStreamEventType> = Extract<JobStreamEvent, { type: T }>;

export const JOB_STREAM_EVENT_TYPES = ["started", "progress", "chunk_skipped", "completed", "failed", "cancelled", "status"] as const satisfies readonly JobStreamEventType[];

/** After one of these the server closes the stream: the job finished, or (status) it cannot be followed from here. */
export function endsStream(event: JobStreamEvent): event is JobStreamEventOf<"completed" | "failed" | "cancelled" | "status"> {
  return event.type === "completed" || event.type === "failed" || event.type === "cancelled" || event.type === "status";
}

/** The core's event in its wire form. */
export function toWireJobEvent(event: JobEvent): JobWireEvent {
  switch (event.type) {
    case "started":
      return toWire(jobStartedEventSchema, event);
    case "progress":
      return toWire(jobProgressEventSchema, event);
    case "chunk_skipped":
      return toWire(chunkSkippedEventSchema, event);
    case "failed":
      return toWire(jobFailedEventSchema, event);
    case "cancelled":
      return toWire(jobCancelledEventSchema, event);
    case "completed": {
      // The core types metrics loosely (unknown); on the wire they are the run metrics in snake_case.
      const { metrics, ...rest } = event;
      const wire = toWire(jobCompletedEventSchema.omit({ metrics: true }), rest);
      const parsed = metrics === undefined ? undefined : runMetricsSchema.safeParse(metrics);
      return parsed?.success ? { ...wire, metrics: toWire(runMetricsSchema, parsed.data) } : wire;
    }
  }
}
