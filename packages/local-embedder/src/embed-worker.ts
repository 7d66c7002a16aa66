/**
 * The embedding thread: loads the model once and embeds the batches the
 * LocalEmbedder posts, so tokenising and ONNX Runtime's synchronous run never
 * block the host's event loop. Started by file (dist/embed-worker.js), never imported.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { loadEmbeddingModel, type EmbeddingModelSettings } from "./embedding-model.js";
import { describeError, type EmbedThreadReply, type EmbedThreadRequest } from "./embed-thread-messages.js";

const port = parentPort!;
const loading = loadEmbeddingModel(workerData as EmbeddingModelSettings);
// A load failure is reported with each request, so the host sees the typed error where it asked.
loading.catch(() => undefined);
port.postMessage({ type: "started", threadId } satisfies EmbedThreadReply);

port.on("message", (request: EmbedThreadRequest) => {
  void (async () => {
    try {
      const model = await loading;
      const vectors = await model.embedBatch(request.texts);
      port.postMessage({ type: "vectors", id: request.id, vectors } satisfies EmbedThreadReply, vectors.map((v) => v.buffer as ArrayBuffer));
    } catch (error) {
      port.postMessage({ type: "failed", id: request.id, error: describeError(error) } satisfies EmbedThreadReply);
    }
  })();
});
