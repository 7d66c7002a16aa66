import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_RETRY_MS,
  RUN_FAILED_CODE,
  SseParser,
  decodeJobStreamEvent,
  type JobKind,
  type JobPhase,
  type JobStreamEvent,
  type RunMetricsWire,
  type RunStatus,
  type SseMessage,
} from "@zip/deep-memory-protocol";
import { DeepMemoryClientError, errorFromResponse, toClientError } from "./errors.js";
import { Store } from "./store.js";
import type { Transport } from "./http.js";

// The protocol's own types, not copies: the client cannot drift from the wire.
export type { JobKind, JobPhase, RunStatus };

/** A job's failure as its `failed` event (or the run) reports it. */
export interface JobError {
  code: string;
  message: string;
}

export interface JobStreamSnapshot {
  jobId: string;
  runId: string | null;
  kind: JobKind | null;
  /** "waiting" until the first event; "running" once started; then "completed", "failed" or "cancelled". */
  status: "waiting" | "running" | "completed" | "failed" | "cancelled";
  /** The run's status as the stream last reported it ("generated" or "completed" after success). */
  runStatus: RunStatus | null;
  phase: JobPhase | null;
  processed: number;
  total: number;
  /** 0..100 for the whole job. */
  percent: number;
  pairCount: number;
  skippedChunks: number;
  /** Training progress, when the server reports it. */
  epoch: number | null;
  loss: number | null;
  validationRecallAt10: number | null;
  /** Held-out recall with and without deep memory, once a training job completed. */
  metrics: RunMetricsWire | null;
  /** Why the job failed, or (code "CANCELLED") why it was cancelled. */
  error: JobError | null;
  connection: "idle" | "connecting" | "open" | "reconnecting" | "closed";
  /** Why the stream cannot be followed (unknown job, refused, server unreachable after every retry); says nothing about the job itself. */
  streamError: DeepMemoryClientError | null;
  /** Consecutive connection attempts that brought no event. */
  reconnectAttempts: number;
  /** The last event id received: what a reconnect sends as Last-Event-ID. */
  lastEventId: string | null;
  lastEvent: JobStreamEvent | null;
  /** Nothing more will arrive: the job ended, or the stream failed for good (see `streamError`). */
  done: boolean;
}

export interface JobStreamOptions {
  /** Wait before reconnecting until the server sends its own `retry:` advice. Default 3000. */
  retryMs?: number;
  /** Cap of the exponential backoff after failed attempts. Default 30000. */
  maxRetryMs?: number;
  /** Give up after this many consecutive attempts without an event. Default 8. */
  maxAttempts?: number;
  /** Reconnect when nothing, not even a heartbeat, arrived for this long. Default three heartbeats (45000). */
  idleTimeoutMs?: number;
}

export type JobEventListener = (event: JobStreamEvent) => void;

type Outcome =
  | { kind: "terminal" }
  | { kind: "aborted" }
  | { kind: "ended"; received: boolean; error?: DeepMemoryClientError }
  | { kind: "fatal"; error: DeepMemoryClientError };

const noop = () => {};

/** The state of a job stream before anything was received; hooks also use it (empty id) when there is no job. */
export function initialJobSnapshot(jobId: string): JobStreamSnapshot {
  return {
    jobId,
    runId: null,
    kind: null,
    status: "waiting",
    runStatus: null,
    phase: null,
    processed: 0,
    total: 0,
    percent: 0,
    pairCount: 0,
    skippedChunks: 0,
    epoch: null,
    loss: null,
    validationRecallAt10: null,
    metrics: null,
    error: null,
    connection: "idle",
    streamError: null,
    reconnectAttempts: 0,
    lastEventId: null,
    lastEvent: null,
    done: false,
  };
}

/** Statuses after which retrying the same request cannot help. */
function isFatalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Follows one job's Server-Sent Events with fetch (so the host's headers,
 * e.g. Authorization, go along; EventSource cannot send them). Opens the
 * stream when the first subscriber arrives and closes it when the last one
 * leaves; a dropped connection is resumed with Last-Event-ID after the
 * server's `retry:` advice, backing off while attempts keep failing; the
 * stream ends after the job's terminal event. Events already applied are
 * never applied twice, whatever the server replays.
 */
export class JobStreamStore extends Store<JobStreamSnapshot> {
  private readonly eventListeners = new Set<{ listener: JobEventListener }>();
  private controller: AbortController | null = null;
  private lastSeq = 0;
  private lastEventId: string | null = null;
  private retryMs: number;
  private readonly maxRetryMs: number;
  private readonly maxAttempts: number;
  private readonly idleTimeoutMs: number;

  constructor(
    readonly jobId: string,
    private readonly url: string,
    private readonly transport: Transport,
    options: JobStreamOptions = {},
    /** Called once after the terminal event, e.g. to refetch what the job changed. */
    private readonly onTerminal: (snapshot: JobStreamSnapshot) => void = noop,
  ) {
    super(initialJobSnapshot(jobId));
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 3 * DEFAULT_HEARTBEAT_MS;
  }

  /** Every event as it is applied, in order and once. Does not keep the stream open by itself: subscribe for that. */
  onEvent(listener: JobEventListener): () => void {
    const entry = { listener };
    this.eventListeners.add(entry);
    return () => void this.eventListeners.delete(entry);
  }

  /** After a stream error: tries again (at once when someone is subscribed). */
  retry(): void {
    const snapshot = this.getSnapshot();
    if (!snapshot.done || snapshot.streamError === null) return;
    this.update({ done: false, streamError: null, reconnectAttempts: 0 });
    if (this.isActive) this.activate();
  }

  /** Whether a connection is open or being opened (for tests and diagnostics). */
  get isFollowing(): boolean {
    return this.controller !== null;
  }

  protected override activate(): void {
    if (this.getSnapshot().done || this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.follow(controller.signal).finally(() => {
      if (this.controller === controller) this.controller = null;
    });
  }

  protected override deactivate(): void {
    this.controller?.abort();
    this.controller = null;
    if (!this.getSnapshot().done) this.update({ connection: "idle" });
  }

  private async follow(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let connected = false;
    while (!signal.aborted) {
      this.update({ connection: connected ? "reconnecting" : "connecting" });
      const outcome = await this.connect(signal);
      if (signal.aborted || outcome.kind === "aborted") return;
      if (outcome.kind === "terminal") {
        this.update({ connection: "closed", done: true, reconnectAttempts: 0, streamError: null });
        this.onTerminal(this.getSnapshot());
        return;
      }
      if (outcome.kind === "fatal") {
        this.update({ connection: "closed", done: true, streamError: outcome.error });
        return;
      }
      connected = true;
      failures = outcome.received ? 0 : failures + 1;
      if (failures >= this.maxAttempts) {
        const error =
          outcome.error ??
          new DeepMemoryClientError({ status: null, code: "NETWORK_ERROR", message: "The job's event stream kept closing before any event arrived" });
        this.update({ connection: "closed", done: true, streamError: error, reconnectAttempts: failures });
        return;
      }
      this.update({ connection: "reconnecting", reconnectAttempts: failures });
      await sleep(this.delay(failures), signal);
    }
  }

  /** The server's `retry:` after a clean end; doubling (with jitter, capped) while attempts keep failing. */
  private delay(failures: number): number {
    if (failures === 0) return this.retryMs;
    const backoff = Math.min(this.maxRetryMs, this.retryMs * 2 ** (failures - 1));
    return Math.max(this.retryMs, Math.round(backoff * (0.8 + Math.random() * 0.4)));
  }

  /** One connection: open, read until it ends. */
  private async connect(signal: AbortSignal): Promise<Outcome> {
    const connection = new AbortController();
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    // Cancelling the reader as well as aborting fetch: some fetch implementations (and mocks) never settle a pending read on abort.
    const stop = () => {
      connection.abort();
      reader?.cancel().catch(noop);
    };
    signal.addEventListener("abort", stop, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdleTimer = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(stop, this.idleTimeoutMs);
    };
    let received = false;
    try {
      armIdleTimer();
      const headers = await this.transport.headers({
        accept: "text/event-stream",
        "cache-control": "no-cache",
        ...(this.lastEventId === null ? {} : { "last-event-id": this.lastEventId }),
      });
      if (signal.aborted) return { kind: "aborted" };
      const response = await this.transport.fetch(this.url, { method: "GET", headers, signal: connection.signal, cache: "no-store" });
      // 204: the job is over and nothing follows Last-Event-ID (what tells an EventSource to stop).
      if (response.status === 204) return { kind: "terminal" };
      if (!response.ok) {
        const error = await errorFromResponse(response);
        return isFatalStatus(response.status) ? { kind: "fatal", error } : { kind: "ended", received, error };
      }
      const contentType = response.headers.get("content-type") ?? "";
      if (!response.body || !contentType.includes("text/event-stream")) {
        return {
          kind: "fatal",
          error: new DeepMemoryClientError({
            status: response.status,
            code: "INVALID_RESPONSE",
            message: `Expected an event stream from ${this.url}, got ${contentType || "no content type"}`,
          }),
        };
      }
      if (signal.aborted) return { kind: "aborted" };
      this.update({ connection: "open" });
      reader = response.body.getReader();
      const parser = new SseParser({ onRetry: (ms) => (this.retryMs = ms) });
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (signal.aborted) return { kind: "aborted" };
        if (done) break;
        armIdleTimer();
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          const result = this.handle(message);
          received ||= result !== "ignored";
          if (result === "terminal") return { kind: "terminal" };
        }
      }
      for (const message of [...parser.push(decoder.decode()), ...parser.end()]) {
        const result = this.handle(message);
        received ||= result !== "ignored";
        if (result === "terminal") return { kind: "terminal" };
      }
      return { kind: "ended", received };
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      return { kind: "ended", received, error: toClientError(error) };
    } finally {
      clearTimeout(idleTimer);
      signal.removeEventListener("abort", stop);
      // Tells the server we went away; not awaited, as a mocked body may never settle it.
      reader?.cancel().catch(noop);
      connection.abort();
    }
  }

  private handle(message: SseMessage): "applied" | "ignored" | "terminal" {
    let event: JobStreamEvent | null;
    try {
      event = decodeJobStreamEvent(message);
    } catch (error) {
      // A malformed event: skip it (its id still counts, so a reconnect does not fetch it again) and say so.
      if (message.id !== undefined) this.lastEventId = message.id;
      this.update({
        streamError: new DeepMemoryClientError({ status: null, code: "INVALID_RESPONSE", message: `Malformed "${message.event}" event`, cause: error }),
      });
      return "ignored";
    }
    if (message.id !== undefined) this.lastEventId = message.id;
    // An event type this client does not know (a newer server).
    if (event === null) return "ignored";
    if ("seq" in event) {
      if (event.seq <= this.lastSeq) return "ignored";
      this.lastSeq = event.seq;
    }
    const terminal = this.apply(event);
    for (const { listener } of [...this.eventListeners]) listener(event);
    return terminal ? "terminal" : "applied";
  }

  /** Folds one event into the snapshot; true when the job is over. */
  private apply(event: JobStreamEvent): boolean {
    const base = { runId: event.training_run_id, kind: event.kind, lastEvent: event, lastEventId: this.lastEventId, reconnectAttempts: 0 };
    switch (event.type) {
      case "started":
        this.update({ ...base, status: "running", total: event.total_chunks, streamError: null });
        return false;
      case "progress":
        this.update({
          ...base,
          status: "running",
          phase: event.phase,
          processed: event.processed,
          total: event.total,
          percent: event.percent,
          pairCount: event.pair_count,
          skippedChunks: event.skipped_chunks,
          epoch: event.epoch ?? null,
          loss: event.loss ?? null,
          validationRecallAt10: event.validation_recall_at_10 ?? null,
          streamError: null,
        });
        return false;
      case "chunk_skipped":
        this.update(base);
        return false;
      case "completed":
        this.update({
          ...base,
          status: "completed",
          runStatus: event.status,
          processed: event.processed_chunks,
          total: event.total_chunks,
          percent: 100,
          pairCount: event.pair_count,
          metrics: event.metrics ?? null,
          error: null,
        });
        return true;
      case "failed":
        this.update({ ...base, status: "failed", runStatus: "failed", error: { code: event.error.code, message: event.error.message } });
        return true;
      case "cancelled":
        // The run is stored as failed with the reason: generate resumes it, train trains it again.
        this.update({ ...base, status: "cancelled", runStatus: "failed", phase: event.phase, error: { code: "CANCELLED", message: event.reason } });
        return true;
      case "status": {
        // The job runs (or ran) in another server process: a snapshot, then the server closes and we poll again after `retry:`.
        const { status } = event;
        const over = !status.active;
        this.update({
          ...base,
          status: over ? (status.status === "failed" ? "failed" : "completed") : "running",
          runStatus: status.status,
          phase: status.phase,
          processed: status.processed_chunks,
          total: status.total_chunks,
          percent: status.percent,
          pairCount: status.pair_count,
          metrics: status.metrics,
          error: status.error === null ? null : { code: RUN_FAILED_CODE, message: status.error },
        });
        return over;
      }
    }
  }
}
