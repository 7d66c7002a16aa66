/**
 * Runs a training (fitModel) on a worker thread, so the calling thread's event
 * loop stays free while a model trains: a server keeps answering its cheap
 * routes. Where no worker can run it (no worker_threads, as in browsers; the
 * worker file missing, as in some bundles), the training runs on the calling
 * thread instead, yielding to its event loop every 50 ms. fitModel is
 * deterministic for its job, so both give the same bytes (tested).
 */
import { AbortedError, DeepMemoryError, TrainingFailedError, ValidationError, type ErrorCode } from "./errors.js";
import type { FitProgress } from "./fit-residual.js";
import { fitModel, type FitHooks, type FitJob, type FitOutcome } from "./fit-model.js";
import { startWorker, workerEntry, workerThreads, type WorkerEntry, type WorkerStartOptions } from "./worker-entry.js";

/** What the worker posts, in this order: started, progress per epoch, then done or failed. */
export type FitThreadMessage =
  | { type: "started"; threadId: number }
  | { type: "progress"; progress: FitProgress }
  | { type: "done"; outcome: FitOutcome }
  | { type: "failed"; error: { name: string; message: string; code: string | undefined } };

export interface FitRun {
  outcome: FitOutcome;
  /** The thread fitModel ran on (worker_threads' threadId; 0 is the main thread). */
  threadId: number;
}

interface WorkerLike {
  on(event: "message", listener: (message: FitThreadMessage) => void): void;
  once(event: "error", listener: (error: Error) => void): void;
  once(event: "exit", listener: (code: number) => void): void;
  terminate(): Promise<number>;
}

interface WorkerThreads {
  threadId: number;
  Worker: new (entry: URL | string, options: WorkerStartOptions) => WorkerLike;
}

/** How to start the training worker (worker-entry.ts). */
export type FitWorkerEntry = WorkerEntry;

/** Rebuilds the error the worker reported as the same typed error where it is one of ours. */
function reviveError(error: { name: string; message: string; code: string | undefined }): Error {
  const code = error.code as ErrorCode | undefined;
  if (code === "ABORTED") return new AbortedError(error.message);
  if (code === "VALIDATION_FAILED") return new ValidationError(error.message);
  if (code) return new DeepMemoryError(code, error.message);
  return new TrainingFailedError(`Deep memory training failed: ${error.message}`);
}

/**
 * Trains on a worker thread when `inWorker` and one starts (the job's
 * arrays are copied to it, or shared where they sit on a
 * SharedArrayBuffer); else, or when the worker fails before it starts
 * training, on this thread. An abort ends the worker at once.
 */
export async function runFit(job: FitJob, hooks: FitHooks & { inWorker: boolean; entry?: FitWorkerEntry | null }): Promise<FitRun> {
  const { signal, onProgress } = hooks;
  if (signal?.aborted) throw new AbortedError("Deep memory training was aborted");
  const threads = hooks.inWorker ? workerThreads<WorkerThreads>() : null;
  const entry = hooks.entry === undefined ? workerEntry(import.meta.url, "fit-worker") : hooks.entry;
  const inProcess = async (): Promise<FitRun> => ({ outcome: await fitModel(job, { signal, onProgress }), threadId: threads?.threadId ?? 0 });
  if (!threads || !entry) return inProcess();

  let worker: WorkerLike;
  try {
    worker = startWorker(threads.Worker, entry, { workerData: job });
  } catch {
    return inProcess();
  }
  return new Promise<FitRun>((resolve, reject) => {
    let started = false;
    let threadId = 0;
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      void worker.terminate();
      action();
    };
    const onAbort = () => finish(() => reject(new AbortedError("Deep memory training was aborted")));
    signal?.addEventListener("abort", onAbort, { once: true });
    // A worker that never started training (its file missing or unloadable) costs time, never the result.
    const failed = (reason: string) =>
      finish(() => {
        if (started) reject(new TrainingFailedError(`Deep memory training stopped: ${reason}`));
        else void inProcess().then(resolve, reject);
      });
    worker.on("message", (message) => {
      if (settled) return;
      if (message.type === "started") {
        started = true;
        threadId = message.threadId;
      } else if (message.type === "progress") {
        try {
          onProgress?.(message.progress);
        } catch (error) {
          finish(() => reject(error));
        }
      } else if (message.type === "done") {
        finish(() => resolve({ outcome: message.outcome, threadId }));
      } else {
        finish(() => reject(reviveError(message.error)));
      }
    });
    worker.once("error", (error) => failed(`the training thread failed (${error.message})`));
    worker.once("exit", (code) => failed(`the training thread exited with code ${code}`));
  });
}
