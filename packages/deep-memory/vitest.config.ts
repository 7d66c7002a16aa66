import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "deep-memory", environment: "node", include: ["src/**/*.test.ts"] });
