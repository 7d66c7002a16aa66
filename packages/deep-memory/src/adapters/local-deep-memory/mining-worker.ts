/**
 * Mining (scoring every question against the whole corpus and keeping each
 * one's best chunks) is most of the fixed cost of training; this hands a share
 * of the questions to one worker thread so both cores of a small machine
 * score at once. The worker runs the same wasm kernel and the same top-k
 * rule as the main thread, and results are placed by question, so the
 * outcome does not depend on scheduling. Null (the caller mines alone) where
 * worker threads or WebAssembly SIMD are missing: browsers, old runtimes.
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
}

interface WorkerApi {
  Worker: new (
    source: string,
    options: { eval: true; workerData: unknown; transferList?: ArrayBuffer[] },
  ) => {
    once(event: "message", listener: (value: Int32Array) => void): void;
    once(event: "error", listener: (error: Error) => void): void;
    once(event: "exit", listener: (code: number) => void): void;
  };
}

/**
 * Plain JS so it runs as given in the worker whatever built this package. Its
 * top-k matches topK in kernels.ts (ties to the lower index, NaN skipped) and
 * its padding and tiling match createSimdCorpus, so each score is bit for bit
 * the one the main thread would compute.
 */
const workerSource = `
const { parentPort, workerData: w } = require("node:worker_threads");
const { module, corpus, count, d, queries, rows, keep, exclude, excludeStart, width } = w;
const k4 = (d + 3) & ~3, n4 = (count + 3) & ~3;
const blockRows = Math.max(4, Math.min(128, Math.floor(4194304 / count))) & ~1;
const xAt = n4 * k4, outAt = xAt + blockRows * k4;
const memory = new WebAssembly.Memory({ initial: Math.ceil(((outAt + blockRows * n4) * 4 + 16) / 65536) });
const abt = new WebAssembly.Instance(module, { env: { memory } }).exports.abt;
const mem = new Float32Array(memory.buffer);
for (let r = 0; r < count; r++) mem.set(corpus.subarray(r * d, (r + 1) * d), r * k4);
const tile = Math.max(4, (Math.floor(32768 / k4) >> 2) << 2);
const out = new Int32Array(rows * width).fill(-1);
const vals = new Float32Array(width);
const mark = new Int32Array(count).fill(-1);
for (let start = 0; start < rows; start += blockRows) {
  const n = Math.min(blockRows, rows - start), n2 = (n + 1) & ~1;
  mem.fill(0, xAt, xAt + n2 * k4);
  for (let i = 0; i < n; i++) mem.set(queries.subarray((start + i) * d, (start + i + 1) * d), xAt + i * k4);
  for (let t = 0; t < n4; t += tile) abt(xAt * 4, t * k4 * 4, n2, Math.min(tile, n4 - t), k4, (outAt + t) * 4, n4);
  for (let i = 0; i < n; i++) {
    const q = start + i, k = keep[q], o = outAt + i * n4, idx = q * width;
    for (let e = excludeStart[q]; e < excludeStart[q + 1]; e++) mark[exclude[e]] = q;
    let found = 0;
    for (let j = 0; j < count; j++) {
      const s = mem[o + j];
      if (found === k && !(s > vals[k - 1])) continue;
      if (s !== s || mark[j] === q) continue;
      let pos = found < k ? found : k - 1;
      while (pos > 0 && s > vals[pos - 1]) { vals[pos] = vals[pos - 1]; out[idx + pos] = out[idx + pos - 1]; pos--; }
      vals[pos] = s;
      out[idx + pos] = j;
      if (found < k) found++;
    }
  }
}
parentPort.postMessage(out, [out.buffer]);
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
 * Starts the job on a worker thread; the promise gives rows x width chunk
 * indexes. Null where no worker can run it.
 */
export function topKOnWorker(corpus: Float32Array, count: number, d: number, job: TopKJob): Promise<Int32Array> | null {
  const threads = workerThreads();
  const module = simdModule();
  if (!threads || !module || job.rows === 0) return null;
  try {
    const worker = new threads.Worker(workerSource, {
      eval: true,
      workerData: { module, corpus, count, d, ...job },
    });
    return new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      // Settles nothing if the message came first; otherwise the worker died silently (out of memory, terminated).
      worker.once("exit", (code) => reject(new Error(`mining worker exited with code ${code}`)));
    });
  } catch {
    return null;
  }
}
