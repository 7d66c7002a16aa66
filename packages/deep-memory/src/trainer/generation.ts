import type { Chunk } from "../domain/chunk.js";
import type { ChunkOutcome, TrainingRun } from "../domain/run.js";
import {
  AbortedError,
  DeepMemoryError,
  GenerationOutputError,
  UpstreamError,
  toDeepMemoryError,
} from "../errors/errors.js";
import { normalizeQuestion } from "../evaluation/split.js";
import type { QuestionGenerator } from "../ports/question-generator.js";
import { withRetry } from "../retry/with-retry.js";
import { abortable } from "../shared/abortable.js";
import type { ResolvedTrainerOptions } from "./options.js";

export interface GenerationSettings {
  questionsPerChunk: number;
  maxPairs: number;
  concurrency: number;
  delayMs: number;
  model: string | undefined;
}

export interface GenerationCallbacks {
  /** Stores one chunk's outcome; returns the run as stored afterwards. */
  record(outcome: ChunkOutcome): Promise<TrainingRun>;
  onRecorded(run: TrainingRun, outcome: ChunkOutcome): void;
  onRetry?(chunkId: string, attempt: number, delayMs: number, error: DeepMemoryError): void;
}

/** Questions longer than this are almost certainly not questions (and SQL stores index the text). */
const maxQuestionLength = 500;

/**
 * Runs the question generator over `pending` chunks with bounded concurrency
 * and a minimum gap between calls, and records each chunk as it completes.
 * Resolves when every chunk is recorded or the pair cap is reached; rejects on
 * the first fatal error (a provider failing past its retries), after letting
 * calls in flight settle so nothing is recorded twice or half.
 */
export async function generatePairs(input: {
  generator: QuestionGenerator;
  pending: readonly Chunk[];
  run: TrainingRun;
  /** Normalised questions the run already holds, for de-duplication across chunks. */
  knownQuestions: Set<string>;
  settings: GenerationSettings;
  options: ResolvedTrainerOptions;
  signal: AbortSignal;
  callbacks: GenerationCallbacks;
}): Promise<{ capReached: boolean }> {
  const { generator, pending, settings, options, callbacks, knownQuestions } = input;
  const stop = new AbortController();
  const signal = AbortSignal.any([input.signal, stop.signal]);
  const keepPerChunk = settings.questionsPerChunk + 1;
  let reserved = input.run.pairCount;
  let capReached = input.run.capReached || reserved >= settings.maxPairs;
  let next = 0;
  let nextStartAt = 0;
  let fatal: unknown = null;

  const waitForSlot = async () => {
    if (settings.delayMs === 0) return;
    const now = Date.now();
    const startAt = Math.max(now, nextStartAt);
    nextStartAt = startAt + settings.delayMs;
    if (startAt > now) await sleep(startAt - now, signal);
  };

  const askGenerator = async (chunk: Chunk): Promise<string[]> =>
    withRetry(
      async () => {
        const timeout = AbortSignal.timeout(options.requestTimeoutMs);
        try {
          const callSignal = AbortSignal.any([signal, timeout]);
          const call = generator.generate({
            chunk: { id: chunk.id, text: chunk.text },
            count: settings.questionsPerChunk,
            signal: callSignal,
            ...(settings.model ? { model: settings.model } : {}),
          });
          // A generator that ignores its signal cannot hold a cancelled job open or outlast its timeout.
          return await abortable(call, callSignal, "Question generation");
        } catch (error) {
          if (timeout.aborted && !signal.aborted) {
            throw new UpstreamError("question-generator", `Question generation timed out after ${options.requestTimeoutMs} ms`, {
              retryable: true,
              cause: error,
            });
          }
          throw error;
        }
      },
      {
        retries: options.retries,
        minDelayMs: options.retryMinDelayMs,
        maxDelayMs: options.retryMaxDelayMs,
        signal,
        onRetry: ({ attempt, delayMs, error }) => callbacks.onRetry?.(chunk.id, attempt, delayMs, error),
      },
    );

  const outcomeFor = async (chunk: Chunk): Promise<Omit<ChunkOutcome, "capReached"> | null> => {
    if (chunk.text.trim() === "") {
      return { chunkId: chunk.id, status: "skipped", questions: [], reason: "empty text", duplicatesRemoved: 0 };
    }
    let lastProblem = "";
    for (let attempt = 1; attempt <= options.chunkAttempts; attempt++) {
      let raw: string[];
      try {
        raw = await askGenerator(chunk);
      } catch (error) {
        if (error instanceof GenerationOutputError || (DeepMemoryError.isInstance(error) && error.code === "GENERATION_OUTPUT_INVALID")) {
          lastProblem = (error as Error).message;
          continue;
        }
        throw error;
      }
      if (signal.aborted) return null;
      const cleaned = raw.map((q) => (typeof q === "string" ? q.trim() : "")).filter((q) => q.length > 0 && q.length <= maxQuestionLength);
      if (cleaned.length === 0) {
        lastProblem = "the generator returned no usable questions";
        continue;
      }
      // Claim questions synchronously so concurrent chunks cannot both keep the same one.
      const questions: string[] = [];
      let duplicatesRemoved = 0;
      for (const question of cleaned) {
        const key = normalizeQuestion(question);
        if (knownQuestions.has(key)) duplicatesRemoved++;
        else if (questions.length < keepPerChunk) {
          knownQuestions.add(key);
          questions.push(question);
        }
      }
      if (questions.length === 0) {
        return { chunkId: chunk.id, status: "skipped", questions, reason: "every question duplicated an earlier one", duplicatesRemoved };
      }
      return { chunkId: chunk.id, status: "done", questions, reason: null, duplicatesRemoved };
    }
    return {
      chunkId: chunk.id,
      status: "skipped",
      questions: [],
      reason: `no usable questions after ${options.chunkAttempts} attempts: ${lastProblem}`,
      duplicatesRemoved: 0,
    };
  };

  const worker = async () => {
    while (!signal.aborted && !capReached) {
      const chunk = pending[next++];
      if (!chunk) return;
      await waitForSlot();
      if (signal.aborted) return;
      const outcome = await outcomeFor(chunk);
      if (!outcome || signal.aborted) return;
      // Reserve room under the cap before awaiting the store, so parallel chunks never overshoot it.
      const room = settings.maxPairs - reserved;
      if (room <= 0) {
        capReached = true;
        releaseQuestions(knownQuestions, outcome.questions);
        return;
      }
      const kept = outcome.questions.slice(0, room);
      releaseQuestions(knownQuestions, outcome.questions.slice(room));
      reserved += kept.length;
      const reachesCap = reserved >= settings.maxPairs;
      const stored: ChunkOutcome = { ...outcome, questions: kept, capReached: reachesCap };
      const run = await callbacks.record(stored);
      callbacks.onRecorded(run, stored);
      if (reachesCap) capReached = true;
    }
  };

  const workers = Array.from({ length: Math.max(1, Math.min(settings.concurrency, pending.length)) }, () =>
    worker().catch((error: unknown) => {
      fatal ??= error;
      stop.abort();
    }),
  );
  await Promise.all(workers);
  if (fatal !== null && !input.signal.aborted) throw toDeepMemoryError(fatal);
  if (input.signal.aborted) throw new AbortedError("Generation was stopped");
  return { capReached };
}

function releaseQuestions(known: Set<string>, questions: readonly string[]): void {
  for (const q of questions) known.delete(normalizeQuestion(q));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
