import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "protocol/index": "src/protocol/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // p-retry is ESM-only; bundling it keeps the CommonJS build loadable by require().
  noExternal: ["p-retry", "is-network-error"],
});
