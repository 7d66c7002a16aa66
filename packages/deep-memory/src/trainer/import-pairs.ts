import { randomUUID } from "node:crypto";
import type { ChunkOutcome } from "../domain/run.js";
import { RunAlreadyActiveError, StoreError, ValidationError, toDeepMemoryError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import { normalizeQuestion } from "../evaluation/split.js";
import type { TrainerContext } from "./context.js";
import { collectChunks } from "./corpus.js";
import { importPairsInputSchema, type ImportPairsInput } from "./options.js";

export interface ImportPairsResult {
  runId: string;
  imported: number;
  duplicatesRemoved: number;
  /** Pairs not imported because their chunk is not in the user's knowledge base. */
  unknownChunkIds: string[];
}

/**
 * Stores real (question, chunk id) pairs, e.g. from chat logs where a user
 * found the cited chunk helpful, as a run ready to train (status "generated").
 * Everything is validated before anything is written; should a write fail
 * midway, the run is marked failed with the reason and its lease released,
 * so a retry can start at once.
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

  const ticket = ctx.runner.ticket();
  try {
    const active = await ctx.leases.recover(userId, ticket.leaseOwner);
    if (active) throw new RunAlreadyActiveError(active.id, active.status, { retryAfterMs: ctx.leases.retryAfterMs(active) });
    const run = await store.createRun(
      {
        id: randomUUID(),
        userId,
        status: "pending",
        totalChunks: outcomes.length,
        existingChunks: 0,
        generation: { questionsPerChunk: 1, maxPairs: pairs.length, model: `import:${source}` },
        generateJobId: null,
        leaseOwner: ticket.leaseOwner,
        leaseExpiresAt: ctx.leases.expiry(),
      },
      ctx.clock(),
    );
    let recorded = 0;
    let renewedAt = Date.now();
    try {
      for (const outcome of outcomes) {
        await store.recordChunk(userId, run.id, outcome, ticket.leaseOwner, ctx.clock());
        recorded++;
        // A long import renews its lease as a job's heartbeat would, so nobody takes it for abandoned.
        if (Date.now() - renewedAt > ctx.options.leaseMs / 3) {
          renewedAt = Date.now();
          const renewed = await store.updateRun(userId, run.id, { leaseExpiresAt: ctx.leases.expiry() }, { leaseOwner: ticket.leaseOwner }, ctx.clock());
          if (!renewed) throw new StoreError(`Lost the lease on import run ${run.id}`);
        }
      }
      const done = await store.updateRun(
        userId,
        run.id,
        { status: "generated", generatedAt: ctx.clock(), leaseOwner: null, leaseExpiresAt: null },
        { leaseOwner: ticket.leaseOwner },
        ctx.clock(),
      );
      if (!done) throw new StoreError(`Lost the lease on import run ${run.id}`);
    } catch (error) {
      const failure = toDeepMemoryError(error);
      await store
        .updateRun(
          userId,
          run.id,
          {
            status: "failed",
            failedPhase: null,
            error: `The import failed after ${recorded} of ${outcomes.length} chunks (${failure.message}); import the pairs again`,
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
    return { runId: run.id, imported, duplicatesRemoved, unknownChunkIds: [...unknown] };
  } finally {
    ticket.release();
  }
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
