import { LocalDeepMemory, type TrainingReport as EngineTrainingReport } from "@zip/deep-memory-engine";
import { describe, expect, expectTypeOf, it } from "vitest";
import { trainingReportSchema, type TrainingReport } from "./domain/metrics.js";
import { AbortedError, DeepMemoryError, ValidationError } from "./errors/errors.js";
import { httpStatusFor } from "./errors/http-status.js";
import type { DeepMemoryEngine } from "./ports/deep-memory-engine.js";

const d = 8;
const unit = (i: number) => Float32Array.from({ length: d }, (_, j) => (j === i % d ? 1 : 0));
const corpus = Array.from({ length: 16 }, (_, i) => unit(i));
const queries = Array.from({ length: 32 }, (_, i) => unit(i + 1));
const positives = queries.map((_, i) => [i % 16]);

// The engine package cannot import the core (the core depends on it): these hold its side of the contract.
describe("@zip/deep-memory-engine as the core's engine", () => {
  it("fits the DeepMemoryEngine port", () => {
    expectTypeOf<LocalDeepMemory>().toExtend<DeepMemoryEngine>();
    // The port's report type (the engine's) is the one the core's schema validates and stores.
    expectTypeOf<EngineTrainingReport>().toEqualTypeOf<TrainingReport>();
  });

  it("reports its training in the core's TrainingReport shape", async () => {
    const model = await new LocalDeepMemory({ maxEpochs: 2, trainInWorker: false }).train({ dimensions: d, queries, positives, corpus, seed: 1 });
    expect(trainingReportSchema.parse(model.report)).toEqual(model.report);
  });

  it("throws errors the core recognises: isInstance, code and HTTP status", async () => {
    let invalid: unknown;
    try {
      new LocalDeepMemory({ maxEpochs: -1 });
    } catch (error) {
      invalid = error;
    }
    expect(ValidationError.isInstance(invalid)).toBe(true);
    // The core's ValidationError is the engine's class: instanceof holds too, and one `catch` branch serves both.
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toBeInstanceOf(DeepMemoryError);
    expect(AbortedError.isInstance(invalid)).toBe(false);
    expect(DeepMemoryError.isInstance(invalid) && httpStatusFor(invalid.code)).toBe(400);

    const controller = new AbortController();
    controller.abort();
    const aborted = await new LocalDeepMemory()
      .train({ dimensions: d, queries, positives, corpus, seed: 1, signal: controller.signal })
      .catch((error: unknown) => error);
    expect(AbortedError.isInstance(aborted)).toBe(true);
    expect(aborted).toBeInstanceOf(AbortedError);
    expect(ValidationError.isInstance(aborted)).toBe(false);
  });
});
