import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "server", environment: "node", include: ["src/**/*.test.ts"] });
