import { describe, expect, it } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { AbortedError, InvalidRunStateError, NotFoundError } from "../errors/errors.js";
import type { JobEvent } from "../events/events.js";
import type { DeepMemoryEngine, EngineTrainInput } from "../ports/deep-memory-engine.js";
import type { GenerateQuestionsInput } from "../ports/question-generator.js";
import { identityModel } from "../test-utils/engines.js";
import { syntheticTrainer } from "../test-utils/synthetic-trainer.js";
import { hangUntilAborted, ScriptedGenerator, syntheticCorpus, type ScriptedReply } from "../test-utils/synthetic.js";
import type { TrainerOptions } from "./options.js";

const userId = "user-a";

/** Trains an identity model, or (while `hang` is set) reports one epoch and waits for the abort, as a long training would. */
class ControlledEngine implements DeepMemoryEngine {
  readonly name = "controlled";
  hang = true;
  aborted = 0;
  train(input: EngineTrainInput) {
    if (!this.hang) return Promise.resolve(identityModel(input, "controlled"));
    input.onProgress?.({ epoch: 1, epochs: 50, loss: 1, validationRecallAt10: 0.5 });
    return new Promise<never>((_, reject) => {
      input.signal?.addEventListener("abort", () => {
        this.aborted++;
        reject(new AbortedError("Deep memory training was aborted"));
      });
    });
  }
  load(model: { dimensions: number }) {
    return { dimensions: model.dimensions, apply: (q: Float32Array) => q.slice() };
  }
}

function setup(
  opts: {
    script?: (chunkId: string, call: number, input: GenerateQuestionsInput) => ScriptedReply | undefined;
    options?: TrainerOptions;
    store?: InMemoryTrainingStore;
    instanceId?: string;
  } = {},
) {
  const corpus = syntheticCorpus({ chunks: 12, dims: 16, seed: 3 });
  const store = opts.store ?? new InMemoryTrainingStore();
  const engine = new ControlledEngine();
  const generator = new ScriptedGenerator(corpus.questionFor, opts.script);
  const trainer = syntheticTrainer(corpus, {
    store,
    generator,
    engine,
    options: { retryMinDelayMs: 1, retryMaxDelayMs: 5, concurrency: 3, minPairs: 2, ...opts.options },
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
  });
  return { corpus, store, engine, generator, trainer };
}

/** Answers the first `answered` chunks at once; every later call hangs until its signal aborts, counting the aborts. */
function stallAfter(answered: number) {
  const seen: string[] = [];
  const state = { aborted: 0, stall: true };
  const script = (chunkId: string, _call: number, input: GenerateQuestionsInput): ScriptedReply | undefined => {
    if (!seen.includes(chunkId)) seen.push(chunkId);
    if (!state.stall || seen.indexOf(chunkId) < answered) return undefined;
    input.signal?.addEventListener("abort", () => state.aborted++);
    return () => hangUntilAborted(input.signal);
  };
  return { script, state };
}

function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await check()) return resolve();
      if (Date.now() > deadline) return reject(new Error("timed out waiting"));
      setTimeout(() => void tick(), 5);
    };
    void tick();
  });
}

describe("cancel", () => {
  it("stops a generation mid-run (aborting the calls in flight), and the next generate resumes it with no duplicate pair", async () => {
    const stall = stallAfter(4);
    const { trainer, store } = setup({ script: stall.script });
    const events: JobEvent[] = [];
    trainer.on("event", (e) => events.push(e));
    const started = await trainer.generate({ userId });
    await until(async () => (await store.getRun(userId, started.runId))?.processedChunks === 4 && stall.state.aborted === 0 && events.length > 0);
    await until(() => trainer.getJob({ userId, jobId: started.jobId })?.active === true);

    const result = await trainer.cancel({ userId, jobId: started.jobId, reason: "wrong knowledge base" });
    expect(result).toEqual({ jobId: started.jobId, runId: started.runId, kind: "generate", phase: "generating", stopped: true });
    expect(stall.state.aborted).toBe(3); // the three calls in flight (concurrency 3)
    const last = events.filter((e) => e.jobId === started.jobId).at(-1);
    expect(last).toMatchObject({ type: "cancelled", reason: "wrong knowledge base", phase: "generating" });
    expect(await trainer.waitForJob({ userId, jobId: started.jobId })).toMatchObject({ type: "cancelled" });
    const cancelled = await store.getRun(userId, started.runId);
    expect(cancelled).toMatchObject({
      status: "failed",
      failedPhase: "generating",
      error: "Cancelled: wrong knowledge base",
      processedChunks: 4,
      leaseOwner: null,
    });

    stall.state.stall = false;
    const again = await trainer.generate({ userId });
    expect(again).toMatchObject({ runId: started.runId, resumed: true });
    expect(await trainer.waitForJob({ userId, jobId: again.jobId })).toMatchObject({ type: "completed" });
    const pairs = await store.listPairs(userId, [started.runId]);
    expect(pairs).toHaveLength(12 * 4);
    expect(new Set(pairs.map((p) => `${p.chunkId}\n${p.question}`)).size).toBe(pairs.length);
    expect(await store.getRun(userId, started.runId)).toMatchObject({ status: "generated", processedChunks: 12, error: null });
    await trainer.close();
  });

  it("an aborted AbortSignal passed to generate cancels the job with the signal's reason", async () => {
    const stall = stallAfter(2);
    const { trainer, store } = setup({ script: stall.script });
    const controller = new AbortController();
    const started = await trainer.generate({ userId, signal: controller.signal });
    await until(async () => (await store.getRun(userId, started.runId))?.processedChunks === 2);
    controller.abort("the user closed the page");
    expect(await trainer.waitForJob({ userId, jobId: started.jobId })).toMatchObject({
      type: "cancelled",
      reason: "the user closed the page",
      phase: "generating",
    });
    expect(stall.state.aborted).toBeGreaterThan(0);
    expect((await store.getRun(userId, started.runId))?.error).toBe("Cancelled: the user closed the page");
    // A signal aborted before the call starts nothing.
    await expect(trainer.generate({ userId, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect((await store.getRun(userId, started.runId))?.status).toBe("failed");
    await trainer.close();
  });

  it("stops a training mid-run; the run fails with the reason and trains again", async () => {
    const { trainer, store, engine } = setup();
    const generated = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId: generated.jobId });
    const controller = new AbortController();
    const events: JobEvent[] = [];
    trainer.on("event", (e) => events.push(e));
    const { jobId } = await trainer.train({ userId, runId: generated.runId, signal: controller.signal });
    await until(() => events.some((e) => e.jobId === jobId && e.type === "progress" && e.phase === "training"));
    controller.abort(new Error("deploy in progress"));
    expect(await trainer.waitForJob({ userId, jobId })).toMatchObject({ type: "cancelled", reason: "deploy in progress", phase: "training" });
    expect(engine.aborted).toBe(1);
    expect(await store.getRun(userId, generated.runId)).toMatchObject({
      status: "failed",
      failedPhase: "training",
      error: "Cancelled: deploy in progress",
      leaseOwner: null,
    });
    expect(await store.getModel(userId, generated.runId)).toBeNull();

    engine.hang = false;
    const retrained = await trainer.train({ userId, runId: generated.runId });
    expect(await trainer.waitForJob({ userId, jobId: retrained.jobId })).toMatchObject({ type: "completed" });
    await trainer.close();
  });

  it("refuses unknown jobs, other users' jobs (404) and finished jobs (409)", async () => {
    const { trainer } = setup();
    const started = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId: started.jobId });
    await expect(trainer.cancel({ userId, jobId: "no-such-job" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(trainer.cancel({ userId: "user-b", jobId: started.jobId })).rejects.toBeInstanceOf(NotFoundError);
    await expect(trainer.cancel({ userId, jobId: started.jobId })).rejects.toBeInstanceOf(InvalidRunStateError);
    await trainer.close();
  });

  it("cancels a job running in another process: the store is marked, that process stops at its next lease renewal", async () => {
    const store = new InMemoryTrainingStore();
    const stall = stallAfter(3);
    const worker = setup({ store, script: stall.script, instanceId: "worker", options: { leaseMs: 300 } });
    const api = setup({ store, instanceId: "api", options: { leaseMs: 300 } });
    const events: JobEvent[] = [];
    worker.trainer.on("event", (e) => events.push(e));
    const started = await worker.trainer.generate({ userId });
    await until(async () => (await store.getRun(userId, started.runId))?.processedChunks === 3);

    const result = await api.trainer.cancel({ userId, jobId: started.jobId, reason: "stopped from the admin screen" });
    expect(result).toMatchObject({ runId: started.runId, kind: "generate", stopped: false });
    expect(await store.getRun(userId, started.runId)).toMatchObject({ status: "failed", error: "Cancelled: stopped from the admin screen" });
    expect(await worker.trainer.waitForJob({ userId, jobId: started.jobId })).toMatchObject({
      type: "cancelled",
      reason: "stopped from the admin screen",
    });
    expect(stall.state.aborted).toBe(3);
    // The worker wrote nothing after the cancel: the run stays cancelled and resumable.
    expect(await store.getRun(userId, started.runId)).toMatchObject({ status: "failed", processedChunks: 3, leaseOwner: null });
    await Promise.all([worker.trainer.close(), api.trainer.close()]);
  });
});
