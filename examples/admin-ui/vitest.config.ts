import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    name: "example-admin-ui",
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
