#!/usr/bin/env node
// Runs a command with the local embedding model available: fetches the model
// files into .cache/models when missing (scripts/fetch-model.mjs) and points
// DEEP_MEMORY_MODEL_DIR there unless it is already set.
//
//   node scripts/with-model.mjs <command> [args...]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const env = { ...process.env, DEEP_MEMORY_MODEL_DIR: process.env.DEEP_MEMORY_MODEL_DIR ?? join(root, ".cache", "models") };
spawnSync(process.execPath, [join(root, "scripts", "fetch-model.mjs")], { stdio: "inherit", env });
const [command, ...args] = process.argv.slice(2);
if (!command) process.exit(0);
const result = spawnSync(command, args, { stdio: "inherit", env, shell: process.platform === "win32" });
process.exit(result.status ?? 1);
