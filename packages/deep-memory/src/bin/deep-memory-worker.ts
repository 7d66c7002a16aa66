#!/usr/bin/env node
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { DeepMemoryTrainer } from "../trainer/deep-memory-trainer.js";
import { runWorker } from "../trainer/run-worker.js";

/**
 * deep-memory-worker <module>
 *
 * Loads <module> (a path, or DEEP_MEMORY_WORKER_MODULE), whose default export
 * (or `createTrainer` export) returns, or resolves to, a DeepMemoryTrainer
 * configured with a queue jobRunner and a shared event log: the same trainer
 * configuration the API processes use. Then runs it as a worker until SIGTERM.
 */
async function main(): Promise<void> {
  const target = process.argv[2] ?? process.env.DEEP_MEMORY_WORKER_MODULE;
  if (!target || target === "--help" || target === "-h") {
    console.error("usage: deep-memory-worker <module exporting createTrainer() or a default function returning a DeepMemoryTrainer>");
    process.exitCode = target ? 0 : 2;
    return;
  }
  const loaded = (await import(pathToFileURL(resolve(target)).href)) as { default?: unknown; createTrainer?: unknown };
  const factory = loaded.createTrainer ?? loaded.default;
  const trainer = typeof factory === "function" ? await (factory as () => unknown)() : factory;
  // Duck-typed: the host's module may load another build (ESM or CommonJS) of the package than this file.
  if (typeof (trainer as Partial<DeepMemoryTrainer> | null)?.startWorker !== "function") {
    throw new TypeError(`${target} must export createTrainer() (or a default function) returning a DeepMemoryTrainer`);
  }
  const worker = await runWorker({ trainer: trainer as DeepMemoryTrainer, log: (message) => console.log(message) });
  await worker.stopped;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
