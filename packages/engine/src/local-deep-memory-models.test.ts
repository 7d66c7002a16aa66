import { describe, expect, it } from "vitest";
import { DeepMemoryError, ValidationError } from "./errors.js";
import type { QueryTransform } from "./contract.js";
import { dot } from "./kernels.js";
import { LocalDeepMemory } from "./local-deep-memory.js";
import { fastOptions, ranking, rotatedWorld, unitVector } from "./local-deep-memory.test-support.js";
import { SeededRandom } from "./random.js";
import { ResidualTransform, residualFormat } from "./residual-transform.js";

describe("LocalDeepMemory models", { timeout: 30_000 }, () => {
  async function trained(): Promise<{ engine: LocalDeepMemory; transform: QueryTransform; model: Awaited<ReturnType<LocalDeepMemory["train"]>> }> {
    const world = rotatedWorld(10);
    const engine = new LocalDeepMemory({ ...fastOptions, maxEpochs: 3 });
    const model = await engine.train(world.input);
    return { engine, model, transform: engine.load(model) };
  }

  it("an untrained (zero) correction ranks exactly like the raw query, whatever its basis", () => {
    const random = new SeededRandom(11);
    const d = 24;
    const r = 6;
    const vt = Float32Array.from({ length: r * d }, () => random.normal());
    const corpus = Array.from({ length: 500 }, () => unitVector(random, d));
    for (const simd of [true, false]) {
      const identity = new ResidualTransform(d, r, new Float32Array(d * r), vt, { simd });
      for (let i = 0; i < 20; i++) {
        const q = unitVector(random, d);
        const out = identity.apply(q);
        expect([...out]).toEqual([...q]);
        expect(ranking(out, corpus)).toEqual(ranking(q, corpus));
      }
    }
  });

  it("applies the same transform with and without WebAssembly SIMD, at sizes that need padding", () => {
    const random = new SeededRandom(14);
    for (const [d, r] of [
      [32, 32],
      [37, 5],
      [384, 128],
    ] as const) {
      const u = Float32Array.from({ length: d * r }, () => 0.1 * random.normal());
      const vt = Float32Array.from({ length: r * d }, () => random.normal() / Math.sqrt(d));
      const simd = new ResidualTransform(d, r, u, vt);
      const js = new ResidualTransform(d, r, u, vt, { simd: false });
      for (let i = 0; i < 5; i++) {
        const q = unitVector(random, d);
        const a = simd.apply(q);
        const b = js.apply(q);
        for (let k = 0; k < d; k++) expect(a[k]!).toBeCloseTo(b[k]!, 5);
      }
    }
  });

  it("apply returns a new unit vector and leaves its input alone", async () => {
    const { transform } = await trained();
    const random = new SeededRandom(12);
    for (let i = 0; i < 10; i++) {
      const q = unitVector(random, 32);
      const copy = Float32Array.from(q);
      const out = transform.apply(q);
      expect(out).not.toBe(q);
      expect([...q]).toEqual([...copy]);
      expect(Math.sqrt(dot(out, out))).toBeCloseTo(1, 5);
    }
    expect(() => transform.apply(new Float32Array(31))).toThrow(ValidationError);
  });

  it("round-trips through its weights: the loaded transform equals the trained one", async () => {
    const { engine, model, transform } = await trained();
    const original = ResidualTransform.fromBytes(model);
    const rebuilt = ResidualTransform.fromBytes({ ...model, weights: original.toBytes() });
    expect([...rebuilt.u]).toEqual([...original.u]);
    expect([...rebuilt.vt]).toEqual([...original.vt]);
    // Weights stored at an odd offset inside a bigger buffer (as a database driver may hand them back).
    const shifted = new Uint8Array(model.weights.byteLength + 3);
    shifted.set(model.weights, 3);
    const reloaded = engine.load({ ...model, weights: shifted.subarray(3) });
    const random = new SeededRandom(13);
    for (let i = 0; i < 5; i++) {
      const q = unitVector(random, 32);
      expect([...reloaded.apply(q)]).toEqual([...transform.apply(q)]);
    }
    expect(original.toBytes()).toEqual(model.weights);
  });

  it("refuses foreign formats, wrong sizes and damaged weights with a ValidationError", async () => {
    const { engine, model } = await trained();
    const corrupt = (edit: (bytes: Uint8Array, view: DataView) => void) => {
      const bytes = Uint8Array.from(model.weights);
      edit(bytes, new DataView(bytes.buffer));
      return { ...model, weights: bytes };
    };
    const attempts = [
      { ...model, format: "activeloop/v1" },
      { ...model, dimensions: 64 },
      { ...model, weights: model.weights.subarray(0, model.weights.byteLength - 4) },
      { ...model, weights: new Uint8Array(4) },
      corrupt((b) => b.set([0, 0, 0, 0], 0)),
      corrupt((_, v) => v.setUint16(4, model.format === residualFormat ? 2 : 1, true)),
      corrupt((_, v) => v.setUint16(4, 3, true)),
      corrupt((_, v) => v.setUint32(12, 0, true)),
      corrupt((_, v) => v.setFloat32(20, Number.NaN, true)),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        engine.load(attempt);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect(DeepMemoryError.isInstance(thrown) && thrown.code).toBe("VALIDATION_FAILED");
    }
  });
});
