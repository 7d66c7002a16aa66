import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "express", environment: "node", include: ["src/**/*.test.ts"] });
