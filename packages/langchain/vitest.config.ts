import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "langchain", environment: "node", include: ["src/**/*.test.ts"] });
