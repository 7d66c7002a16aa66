import { packageBuild } from "../../tsup.base.js";

export default packageBuild({
  entry: { index: "src/index.ts" },
  target: "es2022",
  // Browsers, Node, edge runtimes alike: the package uses zod and web standards only.
  platform: "neutral",
  external: ["zod"],
});
