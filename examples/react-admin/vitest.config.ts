import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    // The admin screen in a real browser (Debian's Chromium through playwright-core) against the example server.
    name: "react-admin-e2e",
    environment: "node",
    include: ["e2e/**/*.e2e.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
