import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";

export const adminRoot = fileURLToPath(new URL("..", import.meta.url));
export const artifactsDir = fileURLToPath(new URL("../test-artifacts/e2e/", import.meta.url));

/** Flags for a quiet, reproducible headless Chromium in a container. */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. Playwright's own browser downloads are never used. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

export function hasLocalModel(): boolean {
  try {
    new LocalEmbedder({ allowRemoteModels: false });
    return true;
  } catch {
    return false;
  }
}

/** Why the browser tests cannot run here, or null. With REQUIRE_BROWSER=1 (as CI sets) a reason is a failure, not a skip. */
export function missingPrerequisite(): string | null {
  if (!findChromium()) return "no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)";
  if (!hasLocalModel()) return "no all-MiniLM-L6-v2 model files found (set DEEP_MEMORY_MODEL_DIR; docs/local-models.md)";
  return null;
}

export function ensureArtifactsDir(): string {
  mkdirSync(artifactsDir, { recursive: true });
  return artifactsDir;
}
