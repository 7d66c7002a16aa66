import { defineProject } from "vitest/config";

export default defineProject({
  // Tests run on the workspace packages' source (the "@zip/source" export condition), no build needed.
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: { name: "langchain", environment: "node", include: ["src/**/*.test.ts"] },
});
