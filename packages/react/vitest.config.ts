import { sourceProject } from "../../vitest.base.js";

export default sourceProject({
  name: "react",
  environment: "jsdom",
  include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
});
