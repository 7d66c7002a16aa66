import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  name: "nextjs-dashboard",
  environment: "node",
  include: ["lib/**/*.test.ts", "e2e/**/*.e2e.test.ts"],
  // The browser tests build the app when stale, start `next start` and train for real on 2 cores.
  testTimeout: 180_000,
  hookTimeout: 600_000,
});
