import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: { name: "protocol", environment: "node", include: ["src/**/*.test.ts"] },
});
