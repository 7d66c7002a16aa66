import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  // The admin screen in a real browser (Debian's Chromium through playwright-core) against the example server.
  name: "react-admin-e2e",
  environment: "node",
  include: ["e2e/**/*.e2e.test.ts"],
  testTimeout: 120_000,
  hookTimeout: 120_000,
});
