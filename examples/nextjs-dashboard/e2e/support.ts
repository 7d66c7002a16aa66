import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";

export const appRoot = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = join(appRoot, "..", "..");
const nextBin = join(appRoot, "node_modules", "next", "dist", "bin", "next");

/** Flags for a quiet headless Chromium in a container. */
export const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH; never a downloaded browser. */
export function findChromium(): string | null {
  return [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => !!p && existsSync(p)) ?? null;
}

/** Why the browser tests cannot run here, or null. */
export function missingPrerequisite(): string | null {
  if (!findChromium()) return "no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)";
  try {
    new LocalEmbedder({ allowRemoteModels: false });
  } catch {
    return "no all-MiniLM-L6-v2 model files found (set DEEP_MEMORY_MODEL_DIR; docs/local-models.md)";
  }
  return null;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === ".next" || entry.endsWith(".test.ts")) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * Runs `next build` unless .next holds a build newer than every source it
 * compiles (`pnpm verify` builds just before the tests; a test run alone
 * after an edit builds again).
 */
export async function ensureProductionBuild(): Promise<void> {
  const buildId = join(appRoot, ".next", "BUILD_ID");
  const sources = ["app", "components", "lib", "instrumentation.ts", "middleware.ts", "next.config.ts", "postcss.config.mjs", "package.json"].map((p) => join(appRoot, p));
  const examples = ["knowledge-base", "admin-ui"].map((name) => join(repoRoot, "examples", name, "src"));
  const packages = [...readdirSync(join(repoRoot, "packages")).map((name) => join(repoRoot, "packages", name, "src")), ...examples];
  const newest = Math.max(...[...sources, ...packages].filter((p) => existsSync(p)).map(newestMtime));
  if (existsSync(buildId) && statSync(buildId).mtimeMs > newest) return;
  await nextBuild(appRoot, "next build");
}

/** Runs `next build` in `cwd`; a failure throws with its output. */
export async function nextBuild(cwd: string, what: string): Promise<void> {
  // Asynchronously: a blocked test worker misses vitest's heartbeats during the minutes a build takes.
  const child = spawn(process.execPath, [nextBin, "build"], { cwd, env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`${what} failed:\n${output}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  url: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/** `next start` on a free port, with its own data folder; resolves once the deep-memory backend is ready. */
export async function startApp(env: Record<string, string>): Promise<RunningApp> {
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [nextBin, "start", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: appRoot,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Embedding the knowledge base on a busy 2-core CI machine can take a minute or more.
  const deadline = Date.now() + 300_000;
  // instrumentation.ts prints this once the knowledge base is embedded and the store open.
  while (!output.includes("[deep-memory] ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`next start did not get ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async close() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
