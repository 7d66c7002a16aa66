import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "ai-sdk", environment: "node", include: ["src/**/*.test.ts"] });
