import { defineProject } from "vitest/config";

export default defineProject({
  // Workspace packages resolve to their source (the "@zip/source" export condition), no build needed.
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    name: "langchain-rag",
    environment: "node",
    include: ["src/**/*.test.ts"],
    // The example embeds the knowledge base and trains for real on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
