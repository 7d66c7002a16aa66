import { defineConfig } from "vitest/config";

// One root config runs every package's tests against source (the "@zip/source"
// export condition), so `pnpm test` needs no build first.
export default defineConfig({
  resolve: { conditions: ["@zip/source"] },
  // Vitest transforms test files for Node through its SSR pipeline, which has its own resolve conditions.
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    projects: ["packages/*/vitest.config.ts", "packages/react/compat-react18/vitest.config.ts", "examples/*/vitest.config.ts", "scripts/vitest.config.ts"],
  },
});
