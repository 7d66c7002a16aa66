import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

describe("the public API", () => {
  it("matches the checked-in API reports (run `node scripts/api-report.mjs` after a deliberate change, and review the diff)", () => {
    const run = spawnSync(process.execPath, ["scripts/api-report.mjs", "--check"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  }, 120_000);
});
