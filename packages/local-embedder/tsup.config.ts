import { defineConfig } from "tsup";

export default defineConfig({
  // The embedding thread is started by file, beside the bundle that starts it (dist/), never imported.
  entry: { index: "src/index.ts", "embed-worker": "src/embed-worker.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // import.meta.url in the CommonJS build (it locates the embedding thread's file).
  shims: true,
});
