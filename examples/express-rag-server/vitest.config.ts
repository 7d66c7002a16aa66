import { defineProject } from "vitest/config";

export default defineProject({
  // Workspace packages resolve to their source (the "@zip/source" export condition), no build needed.
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    name: "express-rag-server",
    environment: "node",
    include: ["src/**/*.test.ts"],
    // The workflow tests embed the knowledge base and train for real on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
