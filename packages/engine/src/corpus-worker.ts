/**
 * Worker-thread entry of a corpus worker (started by startCorpusWorker in
 * mining-worker.ts): the corpus resident in its own wasm memory, it ranks
 * its share of the mining questions, then scores candidate lists on request
 * until closed. Built by tsup as its own file (dist/corpus-worker.js and
 * .cjs) beside the bundle that starts it. No top-level await: the CommonJS
 * build runs it too.
 *
 * Its top-k matches topK in kernels.ts (ties to the lower index, NaN
 * skipped), its int16 codes come from the same quantize_rows kernel, and its
 * exact scores from gather_dots on the same padded rows as createSimdCorpus,
 * so each result is bit for bit the one the main thread would compute
 * (mining-worker.test.ts).
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import type { CorpusWorkerData, CorpusWorkerReply, CorpusWorkerRequest } from "./mining-worker.js";

/** The exports of wasm-simd.wat this worker calls (addresses and sizes are numbers; see wasm-simd.ts and wasm-simd-corpus.ts). */
interface Kernels {
  abt_i16(a: number, b: number, m: number, n: number, k: number, out: number, ldo: number, scale: number): void;
  gather_dots(x: number, rows: number, base: number, idx: number, count: number, k: number, out: number): void;
  quantize_rows(x: number, k: number, rows: number, codes: number, ldc: number, scales: number): void;
}

/** The slice of the WebAssembly API used here (the package builds without the DOM lib). */
interface Wasm {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function run(port: NonNullable<typeof parentPort>, w: CorpusWorkerData): void {
  const post = (reply: CorpusWorkerReply, transfer: ArrayBuffer[]) => port.postMessage(reply, transfer);
  const { module, corpus, count, d, queries, rows, keep, exclude, excludeStart, width, margin } = w;
  const k4 = (d + 3) & ~3;
  const k8 = (d + 7) & ~7;
  const n4 = (count + 3) & ~3;
  const blockRows = Math.max(4, Math.min(128, Math.floor(4194304 / count))) & ~1;
  const listMax = Math.min(width + margin, count) + 2;
  // Layout (floats): corpus, its int16 codes (two a float) and their scales, as in createSimdCorpus;
  // then the block's query rows, their codes and scales, the block's scores, a list's indexes and exact scores.
  const codesAt = n4 * k4;
  const scalesAt = codesAt + (n4 * k8) / 2;
  const xAt = scalesAt + n4;
  const qAt = xAt + blockRows * k4;
  const qScalesAt = qAt + (blockRows * k8) / 2;
  const outAt = qScalesAt + blockRows;
  const idxAt = outAt + blockRows * n4;
  const exactAt = idxAt + listMax;
  const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
  const memory = new wasm.Memory({ initial: Math.ceil(((exactAt + listMax) * 4 + 16) / 65536) });
  const kernels = new wasm.Instance(module, { env: { memory } }).exports as Kernels;
  const mem = new Float32Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  for (let r = 0; r < count; r++) mem.set(corpus.subarray(r * d, (r + 1) * d), r * k4);
  kernels.quantize_rows(0, k4, n4, codesAt * 4, k8, scalesAt * 4);
  const tile = Math.max(4, (Math.floor(65536 / k8) >> 2) << 2);
  const out = new Int32Array(rows * width).fill(-1);
  const shortlist = new Int32Array(listMax);
  const position = new Int32Array(width);
  const vals = new Float32Array(listMax);
  const mark = new Int32Array(count).fill(-1);

  // k best of src[at..at+n) into idx, ties to the lower index, NaN and skipped (mark) entries dropped: topK in kernels.ts.
  function top(src: Float32Array, at: number, n: number, k: number, q: number, idx: Int32Array): number {
    let found = 0;
    for (let j = 0; j < n; j++) {
      const s = src[at + j]!;
      if (found === k && !(s > vals[k - 1]!)) continue;
      if (Number.isNaN(s) || (q >= 0 && mark[j] === q)) continue;
      let pos = found < k ? found : k - 1;
      while (pos > 0 && s > vals[pos - 1]!) {
        vals[pos] = vals[pos - 1]!;
        idx[pos] = idx[pos - 1]!;
        pos--;
      }
      vals[pos] = s;
      idx[pos] = j;
      if (found < k) found++;
    }
    return found;
  }

  for (let start = 0; start < rows; start += blockRows) {
    const n = Math.min(blockRows, rows - start);
    const n2 = (n + 1) & ~1;
    mem.fill(0, xAt, xAt + n2 * k4);
    for (let i = 0; i < n; i++) mem.set(queries.subarray((start + i) * d, (start + i + 1) * d), xAt + i * k4);
    kernels.quantize_rows(xAt * 4, k4, n2, qAt * 4, k8, qScalesAt * 4);
    for (let t = 0; t < n4; t += tile) {
      kernels.abt_i16(qAt * 4, codesAt * 4 + t * k8 * 2, n2, Math.min(tile, n4 - t), k8, (outAt + t) * 4, n4, (scalesAt + t) * 4);
    }
    for (let i = 0; i < n; i++) {
      const q = start + i;
      const k = keep[q]!;
      for (let e = excludeStart[q]!; e < excludeStart[q + 1]!; e++) mark[exclude[e]!] = q;
      // The int16 scores shortlist; the shortlist's exact scores (gather_dots, as the main thread's gatherDots) rank.
      const listed = top(mem, outAt + i * n4, count, Math.min(k + margin, count), q, shortlist);
      ints.set(shortlist.subarray(0, listed), idxAt);
      ints[idxAt + listed] = 0;
      kernels.gather_dots((xAt + i * k4) * 4, 1, 0, idxAt * 4, (listed + 1) & ~1, k4, exactAt * 4);
      const found = top(mem, exactAt, listed, k, -1, position);
      for (let m = 0; m < found; m++) out[q * width + m] = shortlist[position[m]!]!;
    }
  }
  post({ type: "topK", threadId, topK: out }, [out.buffer]);

  // Then score candidate lists with the same kernel the main thread's gatherDots uses (so the same floats).
  // A list is at most count long; its indexes and scores go where the score block was.
  let lists: { index: Int32Array; start: Int32Array } | null = null;
  port.on("message", (request: CorpusWorkerRequest) => {
    if (request.type === "lists") {
      lists = request;
      return;
    }
    if (!lists) throw new Error("corpus worker: score before setLists");
    const { index, start } = lists;
    const scores = new Float32Array(start[request.rows]!);
    for (let i = 0; i < request.rows; i++) {
      const from = start[i]!;
      const n = start[i + 1]! - from;
      mem.set(request.queries.subarray(i * d, (i + 1) * d), xAt);
      ints.set(index.subarray(from, from + n), outAt);
      ints[outAt + n] = 0;
      kernels.gather_dots(xAt * 4, 1, 0, outAt * 4, (n + 1) & ~1, k4, (outAt + n4) * 4);
      scores.set(mem.subarray(outAt + n4, outAt + n4 + n), from);
    }
    post({ type: "scores", scores }, [scores.buffer]);
  });
}

if (parentPort) run(parentPort, workerData as CorpusWorkerData);
