import { sourceProject } from "../../vitest.base.js";

export default sourceProject({ name: "protocol", environment: "node", include: ["src/**/*.test.ts"] });
