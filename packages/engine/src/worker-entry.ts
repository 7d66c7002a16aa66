/**
 * Where the engine's worker threads start from, and node:worker_threads
 * where the runtime has it. Each worker is its own module that tsup builds
 * beside the bundle that starts it (dist/fit-worker.js, dist/corpus-worker.js
 * and their .cjs twins); run from TypeScript source (the workspace's tests
 * and benches), it loads the .ts file through tsx's CommonJS hook instead.
 */

/** How to start a worker: the built file beside this module, or (from TypeScript source) a bootstrap through tsx. */
export type WorkerEntry = { file: URL } | { source: string };

type BuiltinGetter = (id: string) => unknown;

function builtin<T>(id: string): T | null {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: BuiltinGetter } }).process?.getBuiltinModule;
    return (get?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

/** node:worker_threads where the runtime has it (Node 20.16+ through getBuiltinModule), else null (browsers). */
export function workerThreads<T>(): T | null {
  return builtin<T>("node:worker_threads");
}

/**
 * The entry of the worker named `name` (a file of this folder without
 * extension): the file beside this module with this module's extension
 * (.js for ESM, .cjs for CommonJS), or, where this module is the .ts
 * source, a bootstrap that registers tsx and requires the .ts file. Null
 * where neither can work (bundled into one file without import.meta.url,
 * browsers, tsx missing).
 */
export function workerEntry(name: "fit-worker" | "corpus-worker"): WorkerEntry | null {
  const here = import.meta.url;
  if (typeof here !== "string") return null;
  const extension = /\.(?:c|m)?[jt]s$/.exec(new URL(here).pathname)?.[0];
  if (!extension) return null;
  if (extension !== ".ts") return { file: new URL(`./${name}${extension}`, here) };
  const moduleApi = builtin<{ createRequire(from: string): { resolve(id: string): string } }>("node:module");
  const urlApi = builtin<{ fileURLToPath(url: string): string }>("node:url");
  if (!moduleApi || !urlApi) return null;
  try {
    const tsx = moduleApi.createRequire(here).resolve("tsx/cjs");
    const entry = urlApi.fileURLToPath(new URL(`./${name}.ts`, here).href);
    // Through createRequire, so the bootstrap runs whether the thread evaluates it as CommonJS or (--input-type=module) ESM.
    const load = `process.getBuiltinModule("node:module").createRequire(${JSON.stringify(entry)})`;
    return { source: `const load = ${load}; load(${JSON.stringify(tsx)}); load(${JSON.stringify(entry)});` };
  } catch {
    return null;
  }
}
