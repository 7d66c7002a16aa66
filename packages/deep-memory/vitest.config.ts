import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  test: { name: "deep-memory", environment: "node", include: ["src/**/*.test.ts"] },
});
