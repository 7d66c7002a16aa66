import { describe, expect, it } from "vitest";
import { AbortedError } from "./errors.js";
import type { EngineProgress } from "./contract.js";
import { LocalDeepMemory } from "./local-deep-memory.js";
import { fastOptions, rotatedWorld } from "./local-deep-memory.test-support.js";

/** When training ends: early stopping on the validation loss, and the caller's abort. */
describe("LocalDeepMemory stopping", { timeout: 30_000 }, () => {
  it("stops on a plateau of the validation loss (minImprovement) and keeps the epoch with the lowest loss", async () => {
    const world = rotatedWorld(6);
    const run = async (minImprovement: number) => {
      const losses: number[] = [];
      const model = await new LocalDeepMemory({ ...fastOptions, learningRate: 0.002, maxEpochs: 60, patience: 3, minImprovement }).train({
        ...world.input,
        onProgress: (p) => losses.push((p as EngineProgress & { validationLoss: number }).validationLoss),
      });
      return { model, losses };
    };
    const patient = await run(0);
    const brisk = await run(0.05);
    expect(brisk.model.report.epochs).toBeLessThan(patient.model.report.epochs);
    // Same seed, same trajectory: stopping early only cuts it short.
    expect(brisk.losses).toEqual(patient.losses.slice(0, brisk.losses.length));
    // The last three epochs each failed to get 5% below the last epoch that did.
    const lastProgress = brisk.losses.length - 4;
    for (const loss of brisk.losses.slice(-3)) expect(loss).toBeGreaterThanOrEqual(brisk.losses[lastProgress]! * 0.95);
    const lowest = Math.min(...brisk.losses);
    expect(brisk.model.report.bestEpoch).toBe(brisk.losses.indexOf(lowest) + 1);
  });

  it("throws AbortedError when aborted before or during training", async () => {
    const world = rotatedWorld(7);
    const engine = new LocalDeepMemory(fastOptions);
    const before = new AbortController();
    before.abort();
    await expect(engine.train({ ...world.input, signal: before.signal })).rejects.toBeInstanceOf(AbortedError);

    const during = new AbortController();
    const epochs: number[] = [];
    const training = engine.train({
      ...world.input,
      signal: during.signal,
      onProgress: (p) => {
        epochs.push(p.epoch);
        during.abort();
      },
    });
    await expect(training).rejects.toMatchObject({ code: "ABORTED" });
    expect(epochs).toEqual([1]);
  });

  it("sees an abort raised by a timer while it trains", async () => {
    const world = rotatedWorld(8);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    await expect(
      new LocalDeepMemory({ ...fastOptions, maxEpochs: 10_000, patience: 10_000 }).train({ ...world.input, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

});
