import type { DeepMemoryTrainer } from "./deep-memory-trainer.js";

export interface RunWorkerOptions {
  /** A trainer configured with a queue `jobRunner` (e.g. PgBossJobRunner) and a shared `events` log. */
  trainer: DeepMemoryTrainer;
  /** Stop gracefully on SIGTERM and SIGINT (default true): tasks running here are aborted and retried by another worker. */
  handleSignals?: boolean;
  /** Where the worker says what it does (default: nothing). */
  log?: (message: string) => void;
}

export interface WorkerHandle {
  /** Stops taking tasks and closes the trainer; resolves when it has. */
  stop(): Promise<void>;
  /** Resolves once the worker stopped (by stop() or a signal). */
  readonly stopped: Promise<void>;
}

/**
 * Runs this process as a deep-memory worker: it takes generation batches and
 * training tasks from the trainer's queue until stopped. Run as many as the
 * LLM's rate limit and your CPUs allow, beside any number of API processes
 * on the same PostgreSQL (docs/deployment.md).
 */
export async function runWorker(options: RunWorkerOptions): Promise<WorkerHandle> {
  const { trainer } = options;
  const log = options.log ?? (() => {});
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`deep-memory worker: ${signal}, stopping`);
    void stop();
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (options.handleSignals !== false) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
      try {
        await trainer.close();
      } finally {
        log("deep-memory worker: stopped");
        resolveStopped();
      }
    })();
    return stopping;
  };
  await trainer.startWorker();
  if (options.handleSignals !== false) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  log(`deep-memory worker: started (pid ${process.pid})`);
  return { stop, stopped };
}
