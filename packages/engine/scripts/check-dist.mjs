#!/usr/bin/env node
// After `pnpm build`: trains from the built files, ESM and CommonJS, and
// checks the engine's two workers start from dist/ and run on threads of
// their own (a worker whose file is missing would cost time, never the
// result, so only this shows it): the training worker (dist/fit-worker.*)
// and the corpus worker that shares mining (dist/corpus-worker.*). The ESM
// check runs again under `node --input-type=module -e`, whose flag a thread
// started from a file refuses unless the engine leaves it out. Part of
// `check:package`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import workerThreads from "node:worker_threads";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

// The engine reaches worker_threads through process.getBuiltinModule, the same module object as this import.
const started = [];
const OriginalWorker = workerThreads.Worker;
workerThreads.Worker = class extends OriginalWorker {
  constructor(entry, options) {
    super(entry, options);
    const record = { file: entry instanceof URL ? fileURLToPath(entry) : String(entry), threadId: null };
    started.push(record);
    this.on("message", (message) => {
      if (message && typeof message.threadId === "number") record.threadId ??= message.threadId;
    });
  }
};

function unitRows(rows, d, seed) {
  let state = seed;
  const x = new Float32Array(rows * d);
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = state / 2 ** 32 - 0.5;
  }
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * d, (r + 1) * d);
    const norm = Math.hypot(...row);
    for (let k = 0; k < d; k++) row[k] /= norm;
  }
  return Array.from({ length: rows }, (_, r) => x.slice(r * d, (r + 1) * d));
}

async function check(format, { LocalDeepMemory }) {
  const extension = format.startsWith("esm") ? ".js" : ".cjs";
  // Small: the training worker alone.
  started.length = 0;
  let corpus = unitRows(300, 32, 1);
  let queries = unitRows(300, 32, 2);
  const small = await new LocalDeepMemory({ maxEpochs: 1 }).train({ dimensions: 32, queries, positives: queries.map((_, i) => [i]), corpus, seed: 1 });
  assert.ok(small.weights.length > 0);
  assert.deepEqual(started.map((s) => s.file), [join(dist, `fit-worker${extension}`)], `${format}: the training worker starts from dist`);
  assert.ok(started[0].threadId > 0, `${format}: the training worker ran on a thread of its own`);

  // Big enough (questions x chunks x d >= 3e9) to share mining, trained on this thread so the corpus worker starts from here.
  started.length = 0;
  corpus = unitRows(4000, 256, 3);
  queries = unitRows(3000, 256, 4);
  await new LocalDeepMemory({ maxEpochs: 1, trainInWorker: false }).train({ dimensions: 256, queries, positives: queries.map((_, i) => [i]), corpus, seed: 1 });
  assert.equal(started[0]?.file, join(dist, `corpus-worker${extension}`), `${format}: the corpus worker starts from dist`);
  assert.ok(started[0].threadId > 0, `${format}: the corpus worker ran on a thread of its own`);
  console.log(`${format}: training worker and corpus worker ran from dist/ on their own threads`);
}

const underInputType = process.env.CHECK_DIST_INPUT_TYPE === "module";
await check(underInputType ? "esm under --input-type=module" : "esm", await import(join(dist, "index.js")));
if (!underInputType) {
  await check("cjs", createRequire(import.meta.url)(join(dist, "index.cjs")));
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(import.meta.url)});`], {
    env: { ...process.env, CHECK_DIST_INPUT_TYPE: "module" },
    stdio: "inherit",
  });
  assert.equal(child.status, 0, "the check under node --input-type=module failed");
}
