import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  name: "example-admin-ui",
  environment: "node",
  include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
});
