import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    // LocalDeepMemory's training thread: started by file, beside the bundle that starts it (dist/), never imported.
    "fit-worker": "src/fit-worker.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // import.meta.url in the CommonJS build (it locates the training worker's file).
  shims: true,
});
