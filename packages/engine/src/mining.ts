/**
 * Hard negatives and validation candidates: one scan of the corpus with the
 * plain (untransformed) questions, shared with a worker thread where the
 * runtime has them (mining-worker.ts).
 */
import { topK, type CorpusKernels } from "./kernels.js";
import { startCorpusWorker, type CorpusWorker } from "./mining-worker.js";
import type { SeededRandom } from "./random.js";

/** Row-major queries with, for each row, the corpus rows that answer it. */
export interface QuerySet {
  vectors: Float32Array;
  count: number;
  positives: Int32Array[];
}

/**
 * Per-question candidate lists, packed: question i owns
 * index[start[i]..start[i+1]); the first head[i] are its best chunks under
 * plain search plus its answers, the rest a uniform sample of the other
 * chunks, each standing for tailWeight[i] of them.
 */
export interface CandidateLists {
  index: Int32Array;
  start: Int32Array;
  head: Int32Array;
  tailWeight: Float64Array;
}

/**
 * Validation scores each question against its `validationCandidates` best
 * chunks under plain search, its answers and `validationTailSample` random
 * others, not the whole corpus: 25x cheaper per epoch at 5,000 chunks. The
 * random sample, up-weighted, stands in for the rest of the corpus in the
 * loss; without it the loss kept falling long after held-out recall peaked.
 */
export const validationCandidates = 100;
const validationTailSample = 100;
/**
 * Mining ranks on int16 codes (twice the multiply-adds per instruction of
 * float32) and scores this many more than it keeps exactly: a chunk would
 * have to fall this many places on errors of about 1e-4 to be missed.
 */
const rescoreMargin = 16;

/** Share of the mining rows a worker thread takes while the main thread does the rest. */
const workerShare = 0.5;
/**
 * A worker costs about 35 ms to start (Node 20) and scans at about 20 GMAC/s;
 * below this many multiply-adds (about 150 ms of scanning) it saves little or nothing.
 */
const workerMinWork = 3e9;

/**
 * One pass over the corpus with plain (untransformed) questions. For each
 * training question: its `pool` best non-answer chunks after skipping the
 * `skip` best (likely unlabelled answers), -1 padded. For each validation
 * question: its candidate list. Where worker threads are available, a worker
 * ranks the last share of the questions; every result is placed by
 * question, so it is the same as a single-threaded pass. `meanwhile` runs on
 * the main thread once the worker is started, before the main share. With
 * `keepWorker` the worker is returned (with the validation lists set) for
 * the trainer's validation scoring, and the caller closes it.
 */
export async function mineCandidates(
  train: QuerySet,
  validation: QuerySet,
  corpus: CorpusKernels,
  corpusMatrix: Float32Array,
  corpusCount: number,
  d: number,
  pool: number,
  skip: number,
  random: SeededRandom,
  options: { workers?: boolean; meanwhile?: () => void; keepWorker?: boolean } = {},
): Promise<{ negatives: Int32Array; validation: CandidateLists; worker: CorpusWorker | null }> {
  const trainRows = pool > 0 ? train.count : 0;
  const total = trainRows + validation.count;
  const width = Math.min(Math.max(pool + skip, validationCandidates), corpusCount);
  // Row i: a training question (keep pool + skip, excluding its answers) or a validation one (keep 100).
  const keep = new Int32Array(total);
  const excludeStart = new Int32Array(total + 1);
  for (let row = 0; row < total; row++) {
    const isTrain = row < trainRows;
    keep[row] = isTrain ? Math.min(pool + skip, corpusCount) : Math.min(validationCandidates, corpusCount);
    excludeStart[row + 1] = excludeStart[row]! + (isTrain ? train.positives[row]!.length : 0);
  }
  const exclude = new Int32Array(excludeStart[total]!);
  for (let row = 0; row < trainRows; row++) exclude.set(train.positives[row]!, excludeStart[row]);
  const vectorOf = (row: number) =>
    row < trainRows ? train.vectors.subarray(row * d, (row + 1) * d) : validation.vectors.subarray((row - trainRows) * d, (row - trainRows + 1) * d);

  const ranked = new Int32Array(total * width).fill(-1);
  let local = total;
  let worker: CorpusWorker | null = null;
  if (options.workers !== false && total * corpusCount * d >= workerMinWork) {
    const first = Math.floor(total * (1 - workerShare));
    const rows = total - first;
    const queries = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) queries.set(vectorOf(first + i), i * d);
    const base = excludeStart[first]!;
    worker = startCorpusWorker(corpusMatrix, corpusCount, d, {
      queries,
      rows,
      keep: keep.slice(first),
      exclude: exclude.slice(base, excludeStart[total]),
      excludeStart: excludeStart.slice(first).map((e) => e - base),
      width,
      margin: rescoreMargin,
    });
    if (worker) local = first;
  }
  const rankRows = (from: number, to: number) => {
    const blockRows = Math.max(4, Math.min(128, Math.floor(4_194_304 / corpusCount)));
    const scores = new Float32Array(blockRows * corpusCount);
    const rows = new Float32Array(blockRows * d);
    const mark = new Int32Array(corpusCount).fill(-1);
    const shortlist = new Int32Array(Math.min(width + rescoreMargin, corpusCount));
    const value = new Float32Array(shortlist.length);
    const exact = new Float32Array(shortlist.length);
    const position = new Int32Array(width);
    for (let start = from; start < to; start += blockRows) {
      const count = Math.min(blockRows, to - start);
      for (let i = 0; i < count; i++) rows.set(vectorOf(start + i), i * d);
      if (corpus.rankingScores) corpus.rankingScores(rows, count, scores);
      else corpus.scoreAll(rows, count, scores);
      for (let i = 0; i < count; i++) {
        const row = start + i;
        for (let e = excludeStart[row]!; e < excludeStart[row + 1]!; e++) mark[exclude[e]!] = row;
        const out = ranked.subarray(row * width, (row + 1) * width);
        const skipAnswer = (j: number) => mark[j] === row;
        if (!corpus.rankingScores) {
          topK(scores, keep[row]!, out, value, i * corpusCount, corpusCount, skipAnswer);
          continue;
        }
        // The int16 scores shortlist; the shortlist's exact scores rank.
        const n = topK(scores, Math.min(keep[row]! + rescoreMargin, corpusCount), shortlist, value, i * corpusCount, corpusCount, skipAnswer);
        corpus.gatherDots(rows.subarray(i * d, (i + 1) * d), 1, shortlist, n, exact);
        const found = topK(exact, keep[row]!, position, value, 0, n);
        for (let m = 0; m < found; m++) out[m] = shortlist[position[m]!]!;
      }
    }
  };
  options.meanwhile?.();
  rankRows(0, local);
  if (worker) {
    try {
      ranked.set(await worker.topK, local * width);
    } catch {
      // A worker that failed to run costs time, never the result.
      worker.close();
      worker = null;
      rankRows(local, total);
    }
  }

  const negatives = new Int32Array(train.count * pool).fill(-1);
  for (let row = 0; row < trainRows; row++) {
    for (let m = skip; m < pool + skip && m < width; m++) negatives[row * pool + m - skip] = ranked[row * width + m]!;
  }
  const lists: number[][] = [];
  const heads: number[] = [];
  const weights: number[] = [];
  const inList = new Int32Array(corpusCount).fill(-1);
  for (let v = 0; v < validation.count; v++) {
    const top = ranked.subarray((trainRows + v) * width, (trainRows + v + 1) * width);
    const list: number[] = [];
    for (const c of top) if (c >= 0) list.push(c);
    for (const p of validation.positives[v]!) if (!list.includes(p)) list.push(p);
    for (const c of list) inList[c] = v;
    const rest = corpusCount - list.length;
    const sample = Math.min(validationTailSample, rest);
    heads.push(list.length);
    weights.push(sample > 0 ? rest / sample : 0);
    // Sample without replacement among the chunks not already listed.
    for (let taken = 0; taken < sample; ) {
      const c = Math.floor(random.next() * corpusCount);
      if (inList[c] === v) continue;
      inList[c] = v;
      list.push(c);
      taken++;
    }
    lists.push(list);
  }
  const startOf = new Int32Array(lists.length + 1);
  lists.forEach((list, i) => (startOf[i + 1] = startOf[i]! + list.length));
  const packed = new Int32Array(startOf[lists.length]!);
  lists.forEach((list, i) => packed.set(list, startOf[i]));
  if (worker && options.keepWorker && validation.count > 0) {
    worker.setLists(packed, startOf);
  } else {
    worker?.close();
    worker = null;
  }
  return {
    negatives,
    validation: { index: packed, start: startOf, head: Int32Array.from(heads), tailWeight: Float64Array.from(weights) },
    worker,
  };
}
