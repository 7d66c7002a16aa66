import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  name: "express-rag-server",
  environment: "node",
  include: ["src/**/*.test.ts"],
  // The workflow tests embed the knowledge base and train for real on 2 cores.
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
