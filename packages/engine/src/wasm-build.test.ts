import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileWat, renderModule } from "../scripts/build-wasm.mjs";
import { wasmSimdBase64 } from "./wasm-simd.generated.js";

const wat = readFileSync(new URL("./wasm-simd.wat", import.meta.url), "utf8");

describe("the WebAssembly module", { timeout: 30_000 }, () => {
  it("checked in is byte for byte a fresh build of wasm-simd.wat (run `pnpm -F @zip/deep-memory-engine build:wasm` after editing it)", async () => {
    const fresh = await compileWat(wat);
    expect(Buffer.from(wasmSimdBase64, "base64").equals(Buffer.from(fresh))).toBe(true);
    expect(readFileSync(new URL("./wasm-simd.generated.ts", import.meta.url), "utf8")).toBe(renderModule(fresh));
  });

  it("is built from the source: a changed .wat gives other bytes", async () => {
    // One constant of AdamW's, so the check above cannot pass by ignoring its input.
    const edited = wat.replace("(f32.const 1)", "(f32.const 2)");
    expect(edited).not.toBe(wat);
    const [fresh, changed] = [await compileWat(wat), await compileWat(edited)];
    expect(Buffer.from(changed).equals(Buffer.from(fresh))).toBe(false);
  });
});
