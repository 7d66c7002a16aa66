import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { workerEntry } from "./worker-entry.js";

const execFileAsync = promisify(execFile);

describe("workerEntry", () => {
  it("finds the worker beside the calling module, with its extension; from .ts source, a tsx bootstrap", () => {
    expect(workerEntry("file:///app/dist/index.js", "embed-worker")).toEqual({ file: new URL("file:///app/dist/embed-worker.js") });
    expect(workerEntry("file:///app/dist/chunk-A1.cjs", "fit-worker")).toEqual({ file: new URL("file:///app/dist/fit-worker.cjs") });
    const source = workerEntry(import.meta.url, "fit-worker");
    expect(source && "source" in source && source.source).toContain(JSON.stringify(fileURLToPath(new URL("./fit-worker.ts", import.meta.url))));
    // Bundled without import.meta.url, or a module with no script extension: no worker, the caller stays on its thread.
    expect(workerEntry(undefined, "fit-worker")).toBeNull();
    expect(workerEntry("file:///app/bundle", "fit-worker")).toBeNull();
  });
});

describe("startWorker", { timeout: 60_000 }, () => {
  it("starts a worker from a file and from the tsx bootstrap under --input-type=module, on the command line or in NODE_OPTIONS", async () => {
    // A thread inherits --input-type, which a thread started from a file refuses (ERR_INPUT_TYPE_NOT_ALLOWED):
    // as when a built package is imported from `node --input-type=module -e`.
    const dir = await mkdtemp(join(tmpdir(), "worker-entry-"));
    try {
      const probe = join(dir, "probe.mjs");
      await writeFile(probe, `import { parentPort, threadId } from "node:worker_threads"; parentPort.postMessage(threadId);`);
      const script = `
        import { startWorker, workerEntry, workerThreads } from ${JSON.stringify(fileURLToPath(new URL("./worker-entry.ts", import.meta.url)))};
        const { Worker } = workerThreads();
        const entries = [{ file: new URL(${JSON.stringify(pathToFileURL(probe).href)}) }, workerEntry(${JSON.stringify(import.meta.url)}, "worker-probe.test-support")];
        const seen = [];
        for (const entry of entries) {
          const worker = startWorker(Worker, entry, { workerData: null });
          seen.push(await new Promise((resolve) => {
            worker.once("message", (id) => resolve(id > 0 ? "ran on a thread" : "ran on the main thread"));
            worker.once("error", (error) => resolve(error.code ?? error.message));
          }));
          await worker.terminate();
        }
        console.log(JSON.stringify(seen));`;
      const flags = ["--import", "tsx", "--conditions=@zip/source"];
      const onCommandLine = await execFileAsync(process.execPath, ["--input-type=module", ...flags, "-e", script], { timeout: 30_000 });
      expect(JSON.parse(onCommandLine.stdout)).toEqual(["ran on a thread", "ran on a thread"]);
      // The same flag given through NODE_OPTIONS, which a thread reads from its environment.
      const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --input-type=module`.trim() };
      const inEnvironment = await execFileAsync(process.execPath, [...flags, "-e", script], { timeout: 30_000, env });
      expect(JSON.parse(inEnvironment.stdout)).toEqual(["ran on a thread", "ran on a thread"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
