import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  // Browsers, Node, edge runtimes alike: the package uses zod and web standards only.
  platform: "neutral",
  external: ["zod"],
});
