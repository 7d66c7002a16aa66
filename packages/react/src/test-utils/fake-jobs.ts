import {
  SSE_RESPONSE_HEADERS,
  encodeJobStreamEvent,
  encodeSseComment,
  encodeSseRetry,
  runDetailResponseSchema,
  type JobStreamEvent,
  type RunDetailResponse,
} from "@zip/deep-memory-protocol";
import { HttpResponse } from "msw";

/* The fake API's jobs: their runs as first created and their SSE event streams. */

export type Kind = "generate" | "train";
export type JobEventBody = JobStreamEvent extends infer E
  ? E extends { seq: number }
    ? Omit<E, "seq" | "job_id" | "training_run_id" | "kind" | "at">
    : never
  : never;

interface StreamConnection {
  write(chunk: string): void;
  close(): void;
}

export interface FakeJob {
  id: string;
  runId: string;
  kind: Kind;
  events: JobStreamEvent[];
  connections: Set<StreamConnection>;
  over: boolean;
}

/** The stream counters the fake API exposes to tests. */
export interface StreamLog {
  openStreams: number;
  maxOpenStreams: number;
}

const encoder = new TextEncoder();

/** A run as POST /generate creates it, before any event. */
export function newFakeRun(id: string, created: string, overrides: Partial<RunDetailResponse>): RunDetailResponse {
  return runDetailResponseSchema.parse({
    id,
    status: "generating",
    total_chunks: 4,
    processed_chunks: 0,
    skipped_chunks: 0,
    existing_chunks: 0,
    pair_count: 0,
    duplicates_removed: 0,
    cap_reached: false,
    generation: { questions_per_chunk: 3, max_pairs: 1000, model: "gpt-4o-mini" },
    metrics: null,
    error: null,
    failed_phase: null,
    generate_job_id: null,
    train_job_id: null,
    created_at: created,
    updated_at: created,
    generated_at: null,
    completed_at: null,
    sample_pairs: [],
    statistics: {
      pair_count: 0,
      chunks_with_pairs: 0,
      pairs_per_chunk: { min: 0, max: 0, mean: 0, median: 0 },
      question_length: { min: 0, max: 0, mean: 0, median: 0 },
      duplicates_removed: 0,
      chunks_skipped: 0,
      chunks_already_covered: 0,
      cap_reached: false,
    },
    ...overrides,
  });
}

/** Serves a job's events after `after` as an SSE stream, live until the job ends, the client aborts or the test drops it. */
export function openJobStream(log: StreamLog, retryMs: number, job: FakeJob, after: number, signal: AbortSignal): Response {
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const connection: StreamConnection = {
    write(chunk) {
      if (!closed) controller.enqueue(encoder.encode(chunk));
    },
    close() {
      if (closed) return;
      closed = true;
      job.connections.delete(connection);
      log.openStreams--;
      try {
        controller.close();
      } catch {
        // Already cancelled by the client.
      }
    },
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      log.openStreams++;
      log.maxOpenStreams = Math.max(log.maxOpenStreams, log.openStreams);
      connection.write(encodeSseRetry(retryMs));
      connection.write(encodeSseComment("connected"));
      for (const event of job.events) if ("seq" in event && event.seq > after) connection.write(encodeJobStreamEvent(event));
      if (job.over) connection.close();
      else job.connections.add(connection);
    },
    cancel() {
      connection.close();
    },
  });
  // The client went away (abort): what a real server notices as the socket closing.
  signal.addEventListener("abort", () => connection.close(), { once: true });
  return new HttpResponse(stream, { status: 200, headers: SSE_RESPONSE_HEADERS });
}
