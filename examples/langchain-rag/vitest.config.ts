import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  name: "langchain-rag",
  environment: "node",
  include: ["src/**/*.test.ts"],
  // The example embeds the knowledge base and trains for real on 2 cores.
  testTimeout: 180_000,
  hookTimeout: 180_000,
});
