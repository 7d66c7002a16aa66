/**
 * Where a worker thread starts from, and node:worker_threads where the
 * runtime has it: for the engine's workers and for the local embedder's
 * (through @zip/deep-memory/provider-utils), which is why it is a subpath of
 * its own (@zip/deep-memory-engine/worker-entry). Each worker is its own
 * module that tsup builds beside the bundle that starts it (dist/fit-worker.js,
 * dist/corpus-worker.js, the embedder's dist/embed-worker.js, and their .cjs
 * twins); run from TypeScript source (the workspace's tests and benches), it
 * loads the .ts file through tsx's CommonJS hook instead.
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
 * The entry of the worker named `name` (a file, without extension, in the
 * folder of the module at `from`: the caller's import.meta.url): the file
 * beside that module with its extension (.js for ESM, .cjs for CommonJS),
 * or, where that module is .ts source, a bootstrap that registers tsx and
 * requires the .ts file. Null where neither can work (bundled into one file
 * without import.meta.url, browsers, tsx missing).
 */
export function workerEntry(from: string | undefined, name: string): WorkerEntry | null {
  if (typeof from !== "string") return null;
  const extension = /\.(?:c|m)?[jt]s$/.exec(new URL(from).pathname)?.[0];
  if (!extension) return null;
  if (extension !== ".ts") return { file: new URL(`./${name}${extension}`, from) };
  const moduleApi = builtin<{ createRequire(from: string): { resolve(id: string): string } }>("node:module");
  const urlApi = builtin<{ fileURLToPath(url: string): string }>("node:url");
  if (!moduleApi || !urlApi) return null;
  try {
    const tsx = moduleApi.createRequire(from).resolve("tsx/cjs");
    const entry = urlApi.fileURLToPath(new URL(`./${name}.ts`, from).href);
    // Through createRequire, so the bootstrap runs whether the thread evaluates it as CommonJS or (--input-type=module) ESM.
    const load = `process.getBuiltinModule("node:module").createRequire(${JSON.stringify(entry)})`;
    return { source: `const load = ${load}; load(${JSON.stringify(tsx)}); load(${JSON.stringify(entry)});` };
  } catch {
    return null;
  }
}

/** The options of node:worker_threads' Worker that startWorker sets. */
export interface WorkerStartOptions {
  workerData: unknown;
  eval?: boolean;
  execArgv?: string[];
  env?: Record<string, string | undefined>;
}

/**
 * Starts `entry` on `Worker` (node:worker_threads' constructor): the file,
 * or the bootstrap evaluated. A thread inherits its parent's flags (those
 * given to node and those in NODE_OPTIONS), and one started from a file
 * refuses --input-type (ERR_INPUT_TYPE_NOT_ALLOWED), so under
 * `node --input-type=module -e ...` it gets the same flags without that one.
 * Throws what the constructor throws.
 */
export function startWorker<W, O extends WorkerStartOptions>(Worker: new (entry: URL | string, options: O) => W, entry: WorkerEntry, options: O): W {
  const runtime = (globalThis as { process?: { execArgv?: string[]; env?: Record<string, string | undefined> } }).process;
  const execArgv = withoutInputType(runtime?.execArgv ?? []);
  const nodeOptions = runtime?.env?.NODE_OPTIONS;
  const fromEnv = nodeOptions === undefined ? undefined : withoutInputType(nodeOptions.split(/\s+/).filter(Boolean));
  const start = {
    ...options,
    ...(execArgv ? { execArgv } : {}),
    ...(fromEnv ? { env: { ...runtime!.env, NODE_OPTIONS: fromEnv.join(" ") } } : {}),
  };
  return "file" in entry ? new Worker(entry.file, start) : new Worker(entry.source, { ...start, eval: true });
}

/** The flags without --input-type, or undefined where they have none (the thread then inherits them as they are). */
function withoutInputType(flags: readonly string[]): string[] | undefined {
  if (!flags.some((flag) => flag === "--input-type" || flag.startsWith("--input-type="))) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    // "--input-type module" takes the next argument as its value.
    if (flags[i] === "--input-type") i++;
    else if (!flags[i]!.startsWith("--input-type=")) kept.push(flags[i]!);
  }
  return kept;
}
