import { randomUUID } from "node:crypto";
import type { ChunkOutcome, TrainingRun } from "../domain/run.js";
import { RunAlreadyActiveError, StoreError, ValidationError, toDeepMemoryError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import { normalizeQuestion } from "../evaluation/split.js";
import type { TrainerContext } from "./context.js";
import { collectChunks } from "./corpus.js";
import { importPairsInputSchema, type ImportPairsInput } from "./options.js";
import { isImportRun } from "./run-leases.js";

export interface ImportPairsResult {
  runId: string;
  imported: number;
  duplicatesRemoved: number;
  /** Pairs not imported because their chunk is not in the user's knowledge base. */
  unknownChunkIds: string[];
  /** True when this call finished the same import that failed or was interrupted before, instead of starting a new run. */
  resumed: boolean;
}

/**
 * Stores real (question, chunk id) pairs, e.g. from chat logs where a user
 * found the cited chunk helpful, as a run ready to train (status "generated").
 * Everything is validated before anything is written; should a write fail
 * midway (or the process die), the run is marked failed with the reason and
 * its lease released, so a retry can start at once. Retrying the same import
 * finishes that run: the chunks already written are left as they are, so
 * nothing is stored twice.
 */
export async function importPairs(ctx: TrainerContext, input: ImportPairsInput): Promise<ImportPairsResult> {
  const { userId, pairs, source } = parseOrThrow(importPairsInputSchema, input, "importPairs input");
  const { store } = ctx.config;
  const chunks = await collectChunks(ctx.config.vectorStore, userId, { pageSize: ctx.options.pageSize, includeEmbeddings: false });
  const known = new Set(chunks.map((c) => c.id));
  const byChunk = new Map<string, string[]>();
  const unknown = new Set<string>();
  for (const pair of pairs) {
    if (!known.has(pair.chunkId)) unknown.add(pair.chunkId);
    else byChunk.set(pair.chunkId, [...(byChunk.get(pair.chunkId) ?? []), pair.question]);
  }
  if (byChunk.size === 0) {
    throw new ValidationError("None of the imported pairs names a chunk in this knowledge base", [
      { path: "pairs", message: `unknown chunk ids: ${[...unknown].slice(0, 10).join(", ")}` },
    ]);
  }
  const outcomes = dedupe(byChunk);
  const model = `import:${source}`;

  const ticket = ctx.runner.ticket();
  try {
    const active = await ctx.leases.recover(userId, ticket.leaseOwner);
    if (active) throw new RunAlreadyActiveError(active.id, active.status, { retryAfterMs: ctx.leases.retryAfterMs(active) });
    const unfinished = await unfinishedImport(ctx, userId, model, pairs.length, outcomes, ticket.leaseOwner);
    const run =
      unfinished?.run ??
      (await store.createRun(
        {
          id: randomUUID(),
          userId,
          status: "pending",
          totalChunks: outcomes.length,
          existingChunks: 0,
          generation: { questionsPerChunk: 1, maxPairs: pairs.length, model },
          generateJobId: null,
          leaseOwner: ticket.leaseOwner,
          leaseExpiresAt: ctx.leases.expiry(),
        },
        ctx.clock(),
      ));
    const done = unfinished?.recorded ?? new Set<string>();
    let recorded = done.size;
    let renewedAt = Date.now();
    try {
      for (const outcome of outcomes) {
        if (done.has(outcome.chunkId)) continue;
        await store.recordChunk(userId, run.id, outcome, ticket.leaseOwner, ctx.clock());
        recorded++;
        // A long import renews its lease as a job's heartbeat would, so nobody takes it for abandoned.
        if (Date.now() - renewedAt > ctx.options.leaseMs / 3) {
          renewedAt = Date.now();
          const renewed = await store.updateRun(userId, run.id, { leaseExpiresAt: ctx.leases.expiry() }, { leaseOwner: ticket.leaseOwner }, ctx.clock());
          if (!renewed) throw new StoreError(`Lost the lease on import run ${run.id}`);
        }
      }
      const finished = await store.updateRun(
        userId,
        run.id,
        { status: "generated", generatedAt: ctx.clock(), leaseOwner: null, leaseExpiresAt: null },
        { leaseOwner: ticket.leaseOwner },
        ctx.clock(),
      );
      if (!finished) throw new StoreError(`Lost the lease on import run ${run.id}`);
    } catch (error) {
      const failure = toDeepMemoryError(error);
      await store
        .updateRun(
          userId,
          run.id,
          {
            status: "failed",
            failedPhase: null,
            error: `The import failed after ${recorded} of ${outcomes.length} chunks (${failure.message}); import the same pairs again to finish it`,
            leaseOwner: null,
            leaseExpiresAt: null,
          },
          { leaseOwner: ticket.leaseOwner },
          ctx.clock(),
        )
        .catch(() => {
          // The store is down: the lease expires and the next call marks the run failed.
        });
      throw failure;
    }
    const imported = outcomes.reduce((n, o) => n + o.questions.length, 0);
    const duplicatesRemoved = outcomes.reduce((n, o) => n + o.duplicatesRemoved, 0);
    return { runId: run.id, imported, duplicatesRemoved, unknownChunkIds: [...unknown], resumed: unfinished !== null };
  } finally {
    ticket.release();
  }
}

/**
 * The user's newest run, when it is this very import left unfinished (failed
 * midway, or interrupted and since marked failed): same source, same number
 * of pairs and chunks, and every chunk it recorded holding exactly the
 * questions this call brings for it. Leased to `owner` and made active again,
 * with the chunks already recorded; null when there is none to finish.
 */
async function unfinishedImport(
  ctx: TrainerContext,
  userId: string,
  model: string,
  pairCount: number,
  outcomes: readonly ChunkOutcome[],
  owner: string,
): Promise<{ run: TrainingRun; recorded: Set<string> } | null> {
  const { store } = ctx.config;
  const latest = (await store.listRuns(userId, { limit: 1, offset: 0 })).runs[0];
  if (!latest || latest.status !== "failed" || !isImportRun(latest) || latest.generation.model !== model) return null;
  if (latest.generation.maxPairs !== pairCount || latest.totalChunks !== outcomes.length) return null;
  const wanted = new Map(outcomes.map((o) => [o.chunkId, o.questions]));
  const stored = new Map<string, string[]>();
  for (const pair of await store.listPairs(userId, [latest.id])) stored.set(pair.chunkId, [...(stored.get(pair.chunkId) ?? []), pair.question]);
  const recorded = new Set(await store.listRecordedChunkIds(userId, latest.id));
  for (const chunkId of recorded) {
    const questions = wanted.get(chunkId);
    if (!questions || !sameQuestions(questions, stored.get(chunkId) ?? [])) return null;
  }
  const claimed = await ctx.leases.claim(latest, owner);
  if (!claimed) return null;
  const reopened = await store.updateRun(
    userId,
    latest.id,
    { status: "pending", error: null, failedPhase: null },
    { leaseOwner: owner, status: ["failed"] },
    ctx.clock(),
  );
  return reopened ? { run: reopened, recorded } : null;
}

function sameQuestions(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = (x: readonly string[]) => [...x].sort().join("\u0000");
  return sorted(a) === sorted(b);
}

/** One outcome per chunk, the same question (case and punctuation ignored) kept once per chunk. */
function dedupe(byChunk: Map<string, string[]>): ChunkOutcome[] {
  return [...byChunk].map(([chunkId, questions]) => {
    const seen = new Set<string>();
    const kept = questions.filter((q) => {
      const key = normalizeQuestion(q);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return { chunkId, status: "done", questions: kept, reason: null, duplicatesRemoved: questions.length - kept.length, capReached: false };
  });
}
