import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "engine", environment: "node", include: ["src/**/*.test.ts"] });
