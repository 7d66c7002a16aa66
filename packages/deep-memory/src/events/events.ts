import type { JobEvent, JobEventOf, JobEventType } from "@zip/deep-memory-protocol";

/** The event schemas live in the protocol package: the SSE wire events are derived from them. */
export {
  jobKindSchema,
  jobPhaseSchema,
  jobStartedEventSchema,
  jobProgressEventSchema,
  chunkSkippedEventSchema,
  jobCompletedEventSchema,
  jobFailedEventSchema,
  jobCancelledEventSchema,
  jobEventSchema,
  type JobKind,
  type JobPhase,
  type JobEvent,
  type JobEventType,
  type JobEventOf,
} from "@zip/deep-memory-protocol";

export const terminalEventTypes = ["completed", "failed", "cancelled"] as const satisfies readonly JobEventType[];
export type TerminalJobEvent = JobEventOf<(typeof terminalEventTypes)[number]>;
export function isTerminalEvent(event: JobEvent): event is TerminalJobEvent {
  return event.type === "completed" || event.type === "failed" || event.type === "cancelled";
}

/** What a caller passes to emit: the registry stamps seq, jobId, runId, kind and at. */
export type JobEventInput = JobEvent extends infer E
  ? E extends JobEvent
    ? Omit<E, "seq" | "jobId" | "runId" | "kind" | "at">
    : never
  : never;
