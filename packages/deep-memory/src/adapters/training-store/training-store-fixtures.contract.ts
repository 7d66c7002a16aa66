import { randomUUID } from "node:crypto";
import type { RunMetrics } from "../../domain/metrics.js";
import type { ChunkOutcome } from "../../domain/run.js";
import type { NewRun } from "../../ports/training-store.js";

/** Runs, outcomes and metrics the TrainingStore contract and the stores' own tests build on. */
const T0 = new Date("2026-01-01T00:00:00.000Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
export const newUserId = () => `user-${randomUUID()}`;

export function newRun(userId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    userId,
    status: "pending",
    totalChunks: 10,
    existingChunks: 2,
    generation: { questionsPerChunk: 3, maxPairs: 100, model: "test-model" },
    generateJobId: `job-${randomUUID()}`,
    leaseOwner: "worker-1",
    leaseExpiresAt: at(60),
    ...overrides,
  };
}

export function outcome(chunkId: string, questions: string[], overrides: Partial<ChunkOutcome> = {}): ChunkOutcome {
  return { chunkId, status: "done", questions, reason: null, duplicatesRemoved: 0, capReached: false, ...overrides };
}

export const sampleMetrics: RunMetrics = {
  heldOut: {
    withModel: { "recall@10": 0.75, "ndcg@10": 0.6 },
    withoutModel: { "recall@10": 0.67, "ndcg@10": 0.55 },
    queryCount: 40,
    topK: [1, 3, 5, 10],
  },
  trainPairs: 360,
  heldOutPairs: 40,
  recallAt10Gain: 0.08,
  verdict: "improved",
  reason: "recall@10 rose from 0.67 to 0.75 on held-out questions",
  training: {
    engine: "local-residual-linear",
    epochs: 12,
    bestEpoch: 9,
    trainQueries: 324,
    validationQueries: 36,
    baselineValidationRecallAt10: 0.7,
    validationRecallAt10: 0.78,
    wallMs: 1234.5,
  },
};
