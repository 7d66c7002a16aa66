/**
 * Mining (scoring every question against the whole corpus and keeping each
 * one's best chunks) is most of the fixed cost of training; this hands a share
 * of the questions to one worker thread so both cores of a small machine
 * score at once, and then keeps the thread to score each epoch's validation
 * while the main thread trains. The worker runs the same wasm kernels and
 * the same top-k rule as the main thread, and results are placed by
 * question, so the outcome does not depend on scheduling. Null (the caller
 * works alone) where worker threads or WebAssembly SIMD are missing:
 * browsers, old runtimes.
 */
import { simdModule } from "./wasm-simd.js";

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

interface WorkerApi {
  Worker: new (
    source: string,
    options: { eval: true; workerData: unknown; transferList?: ArrayBuffer[] },
  ) => {
    on(event: "message", listener: (value: Int32Array | Float32Array) => void): void;
    once(event: "error", listener: (error: Error) => void): void;
    once(event: "exit", listener: (code: number) => void): void;
    postMessage(value: unknown): void;
    terminate(): Promise<number>;
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
  /** Sets the lists score() uses: row i's candidates are index[start[i]..start[i + 1]). */
  setLists(index: Int32Array, start: Int32Array): void;
  /** Each of `rows` questions (row-major, d floats each) against its list, packed like the index. */
  score(queries: Float32Array, rows: number): Promise<Float32Array>;
  /** Ends the thread; pending results reject. */
  close(): void;
}

/**
 * Plain JS so it runs as given in the worker whatever built this package. Its
 * top-k matches topK in kernels.ts (ties to the lower index, NaN skipped),
 * its int16 codes come from the same quantize_rows kernel, and its exact
 * scores from gather_dots on the same padded rows as createSimdCorpus, so
 * each result is bit for bit the one the main thread would compute.
 */
const workerSource = `
const { parentPort, workerData: w } = require("node:worker_threads");
const { module, corpus, count, d, queries, rows, keep, exclude, excludeStart, width, margin } = w;
const k4 = (d + 3) & ~3, k8 = (d + 7) & ~7, n4 = (count + 3) & ~3;
const blockRows = Math.max(4, Math.min(128, Math.floor(4194304 / count))) & ~1;
const listMax = Math.min(width + margin, count) + 2;
// Layout (floats): corpus, its int16 codes (two a float) and their scales, as in createSimdCorpus;
// then the block's query rows, their codes and scales, the block's scores, a list's indexes and exact scores.
const codesAt = n4 * k4, scalesAt = codesAt + (n4 * k8) / 2, xAt = scalesAt + n4, qAt = xAt + blockRows * k4;
const qScalesAt = qAt + (blockRows * k8) / 2, outAt = qScalesAt + blockRows, idxAt = outAt + blockRows * n4, exactAt = idxAt + listMax;
const memory = new WebAssembly.Memory({ initial: Math.ceil(((exactAt + listMax) * 4 + 16) / 65536) });
const instance = new WebAssembly.Instance(module, { env: { memory } });
const { abt_i16: abtI16, gather_dots: gatherDots, quantize_rows: quantizeRows } = instance.exports;
const mem = new Float32Array(memory.buffer), ints = new Int32Array(memory.buffer);
for (let r = 0; r < count; r++) mem.set(corpus.subarray(r * d, (r + 1) * d), r * k4);
quantizeRows(0, k4, n4, codesAt * 4, k8, scalesAt * 4);
const tile = Math.max(4, (Math.floor(65536 / k8) >> 2) << 2);
const out = new Int32Array(rows * width).fill(-1);
const shortlist = new Int32Array(listMax), position = new Int32Array(width), vals = new Float32Array(listMax);
const mark = new Int32Array(count).fill(-1);
// k best of src[at..at+n) into idx, ties to the lower index, NaN and skipped (mark) entries dropped: topK in kernels.ts.
function top(src, at, n, k, q, idx) {
  let found = 0;
  for (let j = 0; j < n; j++) {
    const s = src[at + j];
    if (found === k && !(s > vals[k - 1])) continue;
    if (s !== s || (q >= 0 && mark[j] === q)) continue;
    let pos = found < k ? found : k - 1;
    while (pos > 0 && s > vals[pos - 1]) { vals[pos] = vals[pos - 1]; idx[pos] = idx[pos - 1]; pos--; }
    vals[pos] = s;
    idx[pos] = j;
    if (found < k) found++;
  }
  return found;
}
for (let start = 0; start < rows; start += blockRows) {
  const n = Math.min(blockRows, rows - start), n2 = (n + 1) & ~1;
  mem.fill(0, xAt, xAt + n2 * k4);
  for (let i = 0; i < n; i++) mem.set(queries.subarray((start + i) * d, (start + i + 1) * d), xAt + i * k4);
  quantizeRows(xAt * 4, k4, n2, qAt * 4, k8, qScalesAt * 4);
  for (let t = 0; t < n4; t += tile) abtI16(qAt * 4, codesAt * 4 + t * k8 * 2, n2, Math.min(tile, n4 - t), k8, (outAt + t) * 4, n4, (scalesAt + t) * 4);
  for (let i = 0; i < n; i++) {
    const q = start + i, k = keep[q];
    for (let e = excludeStart[q]; e < excludeStart[q + 1]; e++) mark[exclude[e]] = q;
    // The int16 scores shortlist; the shortlist's exact scores (gather_dots, as the main thread's gatherDots) rank.
    const listed = top(mem, outAt + i * n4, count, Math.min(k + margin, count), q, shortlist);
    ints.set(shortlist.subarray(0, listed), idxAt);
    ints[idxAt + listed] = 0;
    gatherDots((xAt + i * k4) * 4, 1, 0, idxAt * 4, (listed + 1) & ~1, k4, exactAt * 4);
    const found = top(mem, exactAt, listed, k, -1, position);
    for (let m = 0; m < found; m++) out[q * width + m] = shortlist[position[m]];
  }
}
parentPort.postMessage(out, [out.buffer]);
// Then score candidate lists with the same kernel the main thread's gatherDots uses (so the same floats).
// A list is at most count long; its indexes and scores go where the score block was.
let lists = null;
parentPort.on("message", (m) => {
  if (m.index) { lists = m; return; }
  const scores = new Float32Array(lists.start[m.rows]);
  for (let i = 0; i < m.rows; i++) {
    const from = lists.start[i], n = lists.start[i + 1] - from, n2 = (n + 1) & ~1;
    mem.set(m.queries.subarray(i * d, (i + 1) * d), xAt);
    ints.set(lists.index.subarray(from, from + n), outAt);
    ints[outAt + n] = 0;
    gatherDots(xAt * 4, 1, 0, outAt * 4, n2, k4, (outAt + n4) * 4);
    scores.set(mem.subarray(outAt + n4, outAt + n4 + n), from);
  }
  parentPort.postMessage(scores, [scores.buffer]);
});
`;

function workerThreads(): WorkerApi | null {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
    return (get?.("node:worker_threads") as WorkerApi | undefined) ?? null;
  } catch {
    return null;
  }
}

/**
 * Starts the job on a worker thread, which then waits for score() calls
 * until closed (it does not keep the process alive). Null where no worker
 * can run it.
 */
export function startCorpusWorker(corpus: Float32Array, count: number, d: number, job: TopKJob): CorpusWorker | null {
  const threads = workerThreads();
  const module = simdModule();
  if (!threads || !module || job.rows === 0) return null;
  try {
    const worker = new threads.Worker(workerSource, {
      eval: true,
      workerData: { module, corpus, count, d, ...job },
    });
    worker.unref();
    // Replies come in the order of the requests: the top-k result, then one per score().
    const waiting: { resolve: (value: never) => void; reject: (error: Error) => void }[] = [];
    let failure: Error | null = null;
    const fail = (error: Error) => {
      failure ??= error;
      for (const w of waiting.splice(0)) w.reject(failure);
    };
    const next = <T>(): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (failure) reject(failure);
        else waiting.push({ resolve: resolve as (value: never) => void, reject });
      });
    const topK = next<Int32Array>();
    worker.on("message", (value) => waiting.shift()?.resolve(value as never));
    worker.once("error", fail);
    // Settles nothing if every reply came first; otherwise the worker died silently (out of memory, terminated).
    worker.once("exit", (code) => fail(new Error(`corpus worker exited with code ${code}`)));
    return {
      topK,
      setLists(index, start) {
        worker.postMessage({ index, start });
      },
      score(queries, rows) {
        const result = next<Float32Array>();
        if (!failure) worker.postMessage({ queries: queries.subarray(0, rows * d), rows });
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
