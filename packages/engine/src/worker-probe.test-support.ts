// A worker for worker-entry.test.ts: answers with the thread it runs on.
import { parentPort, threadId } from "node:worker_threads";

parentPort?.postMessage(threadId);
