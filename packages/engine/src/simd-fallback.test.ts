import { afterEach, describe, expect, it, vi } from "vitest";
import type { EngineTrainInput } from "./contract.js";
import type { LocalDeepMemory as Engine } from "./local-deep-memory.js";
import { SeededRandom } from "./random.js";

/** The engine's modules loaded afresh, so WebAssembly is looked up again (wasm-simd.ts caches its module). */
async function freshModules() {
  vi.resetModules();
  const [{ LocalDeepMemory }, { simdAvailable }] = await Promise.all([import("./local-deep-memory.js"), import("./kernels.js")]);
  return { LocalDeepMemory, simdAvailable };
}

function unit(random: SeededRandom, d: number, around?: Float32Array, noise = 1): Float32Array {
  const v = Float32Array.from({ length: d }, (_, k) => (around?.[k] ?? 0) + noise * random.normal());
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** Questions near a random direction of their chunk's topic, so training has something to learn; 600 of them, d = 48. */
function world(): { input: EngineTrainInput; heldOut: Float32Array[] } {
  const random = new SeededRandom(21);
  const d = 48;
  const corpus = Array.from({ length: 400 }, () => unit(random, d));
  const topics = corpus.map(() => unit(random, d));
  const ask = (c: number) => unit(random, d, topics[c], 0.3 / Math.sqrt(d));
  const chunks = Array.from({ length: 600 }, (_, i) => i % 300);
  return {
    input: { dimensions: d, queries: chunks.map(ask), positives: chunks.map((c) => [c]), corpus, seed: 3 },
    heldOut: Array.from({ length: 100 }, (_, i) => ask(300 + i)),
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

// Where WebAssembly (or its SIMD) is missing, as in old runtimes, every kernel falls back to plain JS; the kernel
// tests compare each pair, this compares whole trainings. Sums run in another order, so equal within rounding.
describe("LocalDeepMemory without WebAssembly SIMD", { timeout: 60_000 }, () => {
  it("trains the model the SIMD path trains: same epochs and memory, transforms equal to 1e-4, same recall", async () => {
    const { input, heldOut } = world();
    const options = { maxEpochs: 6, trainInWorker: false };
    const simd = await freshModules();
    expect(simd.simdAvailable()).toBe(true);
    const simdEngine: Engine = new simd.LocalDeepMemory(options);
    const withSimd = await simdEngine.train(input);

    vi.stubGlobal("WebAssembly", undefined);
    const js = await freshModules();
    expect(js.simdAvailable()).toBe(false);
    const jsEngine: Engine = new js.LocalDeepMemory(options);
    const withoutSimd = await jsEngine.train(input);

    const { wallMs: _a, ...simdReport } = withSimd.report;
    const { wallMs: _b, ...jsReport } = withoutSimd.report;
    expect(jsReport.epochs).toBe(simdReport.epochs);
    expect(jsReport.bestEpoch).toBe(simdReport.bestEpoch);
    expect(jsReport.questionMemory).toEqual(simdReport.questionMemory);
    expect(jsReport.validationRecallAt10).toBeCloseTo(simdReport.validationRecallAt10, 2);
    expect(withoutSimd.format).toBe(withSimd.format);
    const [a, b] = [simdEngine.load(withSimd), jsEngine.load(withoutSimd)];
    let worst = 0;
    for (const q of heldOut) {
      const [x, y] = [a.apply(q), b.apply(q)];
      for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(x[k]! - y[k]!));
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
