import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@zip/source"] },
  ssr: { resolve: { conditions: ["@zip/source"] } },
  test: {
    name: "react",
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
