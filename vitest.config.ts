import { defineConfig } from "vitest/config";
import { sourceResolve } from "./vitest.base.js";

// One root config runs every package's tests against source (the "@zip/source"
// export condition), so `pnpm test` needs no build first.
export default defineConfig({
  ...sourceResolve,
  test: {
    // supabase-js 2.119 prints a notice on import under Node 20 (which we support) and offers no switch to turn it off;
    // only that exact notice is dropped, so every other warning still shows.
    onConsoleLog: (log) => !(log.includes("Node.js 20 and below are deprecated") && log.includes("supabase-js")),
    projects: ["packages/*/vitest.config.ts", "packages/react/compat-react18/vitest.config.ts", "examples/*/vitest.config.ts", "scripts/vitest.config.ts"],
  },
});
