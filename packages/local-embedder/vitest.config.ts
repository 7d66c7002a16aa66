import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "local-embedder", environment: "node", include: ["src/**/*.test.ts"], testTimeout: 60_000 });
