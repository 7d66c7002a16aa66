/**
 * What a new user meets before any code runs: installing without warnings,
 * and docs whose commands work as written on a fresh machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("the workspace", () => {
  it("gives npm (and so npx) no project setting it does not know: pnpm's settings live in pnpm-workspace.yaml", () => {
    // Only the project's own files count: not the npm_config_* a parent pnpm or npx passes down.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_config_/i.test(name)));
    const npm = spawnSync("npm", ["config", "list"], { cwd: root, encoding: "utf8", env });
    expect(npm.status).toBe(0);
    expect(npm.stderr).not.toMatch(/Unknown project config/);
    if (existsSync(join(root, ".npmrc"))) expect(read(".npmrc")).not.toMatch(/^\s*(link-workspace-packages|only-built-dependencies|shamefully-hoist)/m);
    expect(read("pnpm-workspace.yaml")).toMatch(/^linkWorkspacePackages: true$/m);
  });

  it("docs run pnpm as the README does, pinned through npx, at the version package.json names", () => {
    const version = (JSON.parse(read("package.json")) as { packageManager: string }).packageManager.replace(/^pnpm@/, "");
    for (const doc of ["README.md", "docs/getting-started.md"]) {
      const commands = [...read(doc).matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n")).filter((line) => /\bpnpm\b/.test(line));
      expect(commands.length, doc).toBeGreaterThan(0);
      for (const line of commands) expect(line, `${doc}: ${line}`).toMatch(new RegExp(`^npx -y pnpm@${version.replace(/\./g, "\\.")} `));
    }
  });
});
