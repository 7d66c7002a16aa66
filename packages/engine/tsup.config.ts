import { packageBuild } from "../../tsup.base.js";

export default packageBuild({
  entry: {
    index: "src/index.ts",
    // Where a worker starts from, shared with the local embedder through @zip/deep-memory/provider-utils.
    "worker-entry": "src/worker-entry.ts",
    // LocalDeepMemory's training thread: started by file, beside the bundle that starts it (dist/), never imported.
    "fit-worker": "src/fit-worker.ts",
    // The corpus worker that shares mining and scores validation (mining-worker.ts starts it the same way).
    "corpus-worker": "src/corpus-worker.ts",
  },
  // import.meta.url in the CommonJS build (it locates the workers' files).
  shims: true,
});
