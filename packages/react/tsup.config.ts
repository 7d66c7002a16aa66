import { rmSync } from "node:fs";
import { defineConfig } from "tsup";
import { buildDefaults } from "../../tsup.base.js";

/*
 * Two builds. The client has no React and no "use client" directive, so a
 * server (or a Next.js server component) can call the API with it. The main
 * entry holds the provider and hooks and starts with "use client" so it can
 * be imported straight from a Next.js app router server component tree.
 */
const shared = {
  ...buildDefaults,
  // Not per build: see the rmSync below.
  clean: false,
  target: "es2022",
  platform: "neutral",
  external: ["react", "@zip/deep-memory-protocol"],
} as const;

// Cleaned here, once: the two builds run in parallel and `clean` in either could delete the other's output.
rmSync(new URL("./dist", import.meta.url), { recursive: true, force: true });

export default defineConfig([
  { ...shared, entry: { "client/index": "src/client/index.ts" } },
  { ...shared, entry: { index: "src/index.ts" }, banner: { js: '"use client";' } },
]);
