/**
 * Engines for tests that look at everything around training but not at
 * learning itself: one that must never be called, one that learns nothing,
 * and the pieces of one that learns a linear map at once.
 */
import { normalize } from "../evaluation/vector-math.js";
import type { DeepMemoryEngine, EngineModel, EngineTrainInput, QueryTransform } from "../ports/deep-memory-engine.js";

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

/**
 * W = the sum over (query, positive chunk) pairs of chunk · queryᵀ, as d×d
 * row-major weights: for questions that embed to an orthogonal scrambling of
 * their chunk, W q points back at the chunk. Instant and deterministic, for
 * test engines that must learn something real.
 */
export function correlationWeights(input: EngineTrainInput): Float32Array {
  const d = input.dimensions;
  const w = new Float32Array(d * d);
  input.queries.forEach((q, i) => {
    for (const p of input.positives[i] ?? []) {
      const c = input.corpus[p]!;
      for (let r = 0; r < d; r++) for (let k = 0; k < d; k++) w[r * d + k]! += c[r]! * q[k]!;
    }
  });
  return w;
}

/** The query transform of a model whose weights are a d×d row-major matrix (as correlationWeights makes): W q, normalised. */
export function linearTransform(model: { dimensions: number; weights: Uint8Array }): QueryTransform {
  const d = model.dimensions;
  const w = new Float32Array(model.weights.slice().buffer);
  return {
    dimensions: d,
    apply(query: Float32Array): Float32Array {
      const out = new Float32Array(d);
      for (let r = 0; r < d; r++) for (let k = 0; k < d; k++) out[r]! += w[r * d + k]! * query[k]!;
      return normalize(out);
    },
  };
}
