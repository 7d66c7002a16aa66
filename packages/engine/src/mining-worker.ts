/**
 * Mining (scoring every question against the whole corpus and keeping each
 * one's best chunks) is most of the fixed cost of training; this hands a share
 * of the questions to one worker thread so both cores of a small machine
 * score at once, and then keeps the thread to score each epoch's validation
 * while the main thread trains. The worker runs the same wasm kernels and
 * the same top-k rule as the main thread, and results are placed by
 * question, so the outcome does not depend on scheduling. The worker is a
 * module of its own (corpus-worker.ts, started through worker-entry.ts).
 * Null (the caller works alone) where worker threads, WebAssembly SIMD or
 * the worker's file are missing: browsers, old runtimes, single-file bundles.
 */
import { simdModule } from "./wasm-simd.js";
import { startWorker, workerEntry, workerThreads, type WorkerEntry, type WorkerStartOptions } from "./worker-entry.js";

/** Best-first top-k per question, -1 padded: what the worker returns. */
export interface TopKJob {
  /** Row-major questions (rows x d). */
  queries: Float32Array;
  rows: number;
  /** Per question, how many chunks to keep (at most `width`). */
  keep: Int32Array;
  /** Chunks a question must not get (its answers): question i's are exclude[excludeStart[i]..excludeStart[i+1]). */
  exclude: Int32Array;
  excludeStart: Int32Array;
  width: number;
  /** How many more than it keeps a question shortlists on int16 codes and then scores exactly. */
  margin: number;
}

/** What the worker starts with: the compiled wasm module, the corpus and the top-k job. */
export interface CorpusWorkerData extends TopKJob {
  module: object;
  corpus: Float32Array;
  count: number;
  d: number;
}

/** What the worker is sent after its top-k job: the lists to score, then rows to score against them. */
export type CorpusWorkerRequest = { type: "lists"; index: Int32Array; start: Int32Array } | { type: "score"; queries: Float32Array; rows: number };

/** What the worker posts, in this order: the top-k result, then one scores reply per score request. */
export type CorpusWorkerReply = { type: "topK"; threadId: number; topK: Int32Array } | { type: "scores"; scores: Float32Array };

interface WorkerApi {
  Worker: new (
    entry: URL | string,
    options: WorkerStartOptions & { transferList?: ArrayBuffer[] },
  ) => {
    on(event: "message", listener: (value: CorpusWorkerReply) => void): void;
    once(event: "error", listener: (error: Error) => void): void;
    once(event: "exit", listener: (code: number) => void): void;
    postMessage(value: CorpusWorkerRequest): void;
    terminate(): Promise<number>;
    ref(): void;
    unref(): void;
  };
}

/**
 * A worker thread with the corpus resident: it runs one top-k job, then,
 * until closed, scores ragged candidate lists (the trainer's validation) so
 * that the main thread can go on with the next epoch meanwhile.
 */
export interface CorpusWorker {
  /** The top-k job's result: rows x width chunk indexes. */
  readonly topK: Promise<Int32Array>;
  /** The thread that computed it (worker_threads' threadId), with the result. */
  readonly threadId: Promise<number>;
  /** Sets the lists score() uses: row i's candidates are index[start[i]..start[i + 1]). */
  setLists(index: Int32Array, start: Int32Array): void;
  /** Each of `rows` questions (row-major, d floats each) against its list, packed like the index. */
  score(queries: Float32Array, rows: number): Promise<Float32Array>;
  /** Ends the thread; pending results reject. */
  close(): void;
}

/**
 * Starts the job on a worker thread, which then waits for score() calls
 * until closed (it does not keep the process alive). Null where no worker
 * can run it.
 */
export function startCorpusWorker(
  corpus: Float32Array,
  count: number,
  d: number,
  job: TopKJob,
  entry: WorkerEntry | null = workerEntry(import.meta.url, "corpus-worker"),
): CorpusWorker | null {
  const threads = workerThreads<WorkerApi>();
  const module = simdModule();
  if (!threads || !module || !entry || job.rows === 0) return null;
  try {
    const workerData: CorpusWorkerData = { module, corpus, count, d, ...job };
    const worker = startWorker(threads.Worker, entry, { workerData });
    // Replies come in the order of the requests: the top-k result, then one per score(). The thread keeps the
    // process alive while a reply is due (a CLI awaiting it would otherwise exit mid-training), and not while idle.
    const waiting: { resolve: (value: never) => void; reject: (error: Error) => void }[] = [];
    const settled = () => {
      if (waiting.length === 0) worker.unref();
    };
    let failure: Error | null = null;
    const fail = (error: Error) => {
      failure ??= error;
      for (const w of waiting.splice(0)) w.reject(failure);
      settled();
    };
    const next = <T>(): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (failure) {
          reject(failure);
        } else {
          waiting.push({ resolve: resolve, reject });
          worker.ref();
        }
      });
    const first = next<{ topK: Int32Array; threadId: number }>();
    const topK = first.then((reply) => reply.topK);
    const threadId = first.then((reply) => reply.threadId);
    // Whoever awaits only one of them must not leave the other's rejection unhandled.
    threadId.catch(() => undefined);
    worker.on("message", (reply) => {
      waiting.shift()?.resolve((reply.type === "topK" ? reply : reply.scores) as never);
      settled();
    });
    worker.once("error", fail);
    // Settles nothing if every reply came first; otherwise the worker died silently (out of memory, terminated).
    worker.once("exit", (code) => fail(new Error(`corpus worker exited with code ${code}`)));
    return {
      topK,
      threadId,
      setLists(index, start) {
        worker.postMessage({ type: "lists", index, start });
      },
      score(queries, rows) {
        const result = next<Float32Array>();
        if (!failure) worker.postMessage({ type: "score", queries: queries.subarray(0, rows * d), rows });
        return result;
      },
      close() {
        fail(new Error("corpus worker closed"));
        void worker.terminate();
      },
    };
  } catch {
    return null;
  }
}
