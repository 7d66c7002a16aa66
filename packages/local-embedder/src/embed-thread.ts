/**
 * Runs the embedding model on a worker thread. ONNX Runtime's Node binding
 * runs a model synchronously on the calling thread (hundreds of ms per batch
 * on a small CPU), which would stall every other request of a server that
 * embeds questions while training; on its own thread it costs the server's
 * event loop only the messages.
 */
import { startWorker, workerEntry, workerThreads, type WorkerStartOptions } from "@zip/deep-memory/provider-utils";
import type { EmbeddingModel, EmbeddingModelSettings } from "./embedding-model.js";
import { reviveError, type EmbedThreadReply, type EmbedThreadRequest } from "./embed-thread-messages.js";

interface WorkerLike {
  on(event: "message", listener: (message: EmbedThreadReply) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
  postMessage(message: EmbedThreadRequest): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

interface WorkerThreads {
  Worker: new (entry: URL | string, options: WorkerStartOptions) => WorkerLike;
}

interface Pending {
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

/** An EmbeddingModel whose batches run on a worker thread; null where no worker can start (browsers, bundles without the file). */
export function startEmbeddingThread(settings: EmbeddingModelSettings): EmbeddingThread | null {
  const threads = workerThreads<WorkerThreads>();
  // dist/embed-worker.js (or .cjs) beside this bundle; from source, embed-worker.ts through tsx.
  const entry = workerEntry(import.meta.url, "embed-worker");
  if (!threads || !entry) return null;
  try {
    return new EmbeddingThread(startWorker(threads.Worker, entry, { workerData: settings }));
  } catch {
    return null;
  }
}

export class EmbeddingThread implements EmbeddingModel {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | undefined;
  /** The worker's threadId once it has started (0 until then). */
  threadId = 0;

  constructor(private readonly worker: WorkerLike) {
    // An idle embedder never keeps the process alive; a pending batch does (see embedBatch).
    worker.unref();
    worker.on("message", (message) => {
      if (message.type === "started") {
        this.threadId = message.threadId;
        return;
      }
      const request = this.pending.get(message.id);
      if (!request) return;
      this.settle(message.id);
      if (message.type === "vectors") request.resolve(message.vectors);
      else request.reject(reviveError(message.error));
    });
    worker.on("error", (error) => this.fail(new Error(`The embedding thread failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => this.fail(new Error(`The embedding thread exited with code ${code}`)));
  }

  /** True once the thread has died; the LocalEmbedder then starts a new one. */
  get dead(): boolean {
    return this.exited !== undefined;
  }

  embedBatch(texts: string[]): Promise<Float32Array[]> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts });
    });
  }

  async dispose(): Promise<void> {
    this.fail(new Error("The embedder was disposed"));
    await this.worker.terminate();
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const [id, request] of this.pending) {
      this.settle(id);
      request.reject(error);
    }
  }
}
