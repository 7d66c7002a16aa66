import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // jose is ESM-only; bundling it keeps the CommonJS build loadable by require() on Node 20.
  noExternal: ["jose"],
});
