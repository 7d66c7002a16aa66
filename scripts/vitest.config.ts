import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "workspace", environment: "node", include: ["scripts/**/*.test.ts"], root: new URL("..", import.meta.url).pathname },
});
