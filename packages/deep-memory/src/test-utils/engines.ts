/**
 * Engines for tests that look at everything around training but not at
 * learning itself: one that must never be called, and one that learns nothing.
 */
import type { DeepMemoryEngine, EngineModel, EngineTrainInput } from "../ports/deep-memory-engine.js";

/** An engine that throws when used, for tests where training never happens: a stray call fails loudly. */
export const unusedEngine: DeepMemoryEngine = {
  name: "unused",
  train: () => Promise.reject(new Error("the engine is not used in this test")),
  load: () => {
    throw new Error("the engine is not used in this test");
  },
};

/** The model of an engine that learns nothing: the identity transform, reported under `engine`. */
export function identityModel(input: EngineTrainInput, engine = "identity"): EngineModel {
  return {
    format: "identity/v1",
    dimensions: input.dimensions,
    weights: new Uint8Array(0),
    report: {
      engine,
      epochs: 0,
      bestEpoch: 0,
      trainQueries: input.queries.length,
      validationQueries: 0,
      baselineValidationRecallAt10: 0,
      validationRecallAt10: 0,
      wallMs: 0,
    },
  };
}

/** An engine whose model is the identity, so it can never beat the baseline. */
export const identityEngine: DeepMemoryEngine = {
  name: "identity",
  train: async (input) => identityModel(input),
  load: (model) => ({ dimensions: model.dimensions, apply: (q) => q.slice() }),
};
