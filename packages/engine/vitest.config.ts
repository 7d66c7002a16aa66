import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  // Vitest transforms test files for Node through its SSR pipeline, which has its own resolve conditions.
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: { name: "engine", environment: "node", include: ["src/**/*.test.ts"] },
});
