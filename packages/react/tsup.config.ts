import { defineConfig } from "tsup";

/*
 * Two builds. The client has no React and no "use client" directive, so a
 * server (or a Next.js server component) can call the API with it. The main
 * entry holds the provider and hooks and starts with "use client" so it can
 * be imported straight from a Next.js app router server component tree.
 */
const shared = {
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  external: ["react", "@zip/deep-memory"],
} as const;

export default defineConfig([
  { ...shared, entry: { "client/index": "src/client/index.ts" }, clean: true },
  { ...shared, entry: { index: "src/index.ts" }, banner: { js: '"use client";' } },
]);
