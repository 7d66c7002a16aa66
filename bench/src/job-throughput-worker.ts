/**
 * A worker process of bench/src/job-throughput.ts:
 *   node --import tsx --conditions=@zip/source bench/src/job-throughput-worker.ts <database url> <fake LLM base URL> <chunks>
 * Prints READY once it takes tasks; stops on SIGTERM.
 */
import { runWorker } from "@zip/deep-memory";
import { createBenchTrainer } from "./job-throughput-setup.js";

const [url, llm, chunks] = process.argv.slice(2);
if (!url || !llm || !chunks) throw new Error("usage: <database url> <fake LLM base URL> <chunks>");
const { trainer } = createBenchTrainer({ url, llm, chunks: Number(chunks), queue: true });
await runWorker({ trainer });
process.stdout.write("READY\n");
