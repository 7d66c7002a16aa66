/**
 * Worker-thread entry of a training (see fit-thread.ts): runs fitModel on the
 * job it is started with and posts progress, then the model (or the error).
 * Built by tsup as its own file (dist/fit-worker.js and .cjs) beside the
 * bundle that starts it. No top-level await: the CommonJS build runs it too.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { fitModel, type FitJob } from "./fit-model.js";
import type { FitThreadMessage } from "./fit-thread.js";

const port = parentPort;
if (port) {
  const post = (message: FitThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  post({ type: "started", threadId });
  fitModel(workerData as FitJob, { onProgress: (progress) => post({ type: "progress", progress }) }).then(
    (outcome) => post({ type: "done", outcome }, [outcome.weights.buffer as ArrayBuffer]),
    (error: unknown) => {
      const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
      post({ type: "failed", error: { name: name ?? "Error", message: message ?? String(error), code: typeof code === "string" ? code : undefined } });
    },
  );
}
