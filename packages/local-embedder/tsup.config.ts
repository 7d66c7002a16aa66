import { packageBuild } from "../../tsup.base.js";

export default packageBuild({
  // The embedding thread is started by file, beside the bundle that starts it (dist/), never imported.
  entry: { index: "src/index.ts", "embed-worker": "src/embed-worker.ts" },
  // import.meta.url in the CommonJS build (it locates the embedding thread's file).
  shims: true,
});
