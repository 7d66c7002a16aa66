// Runs every package's vitest project once and ends with a plain
// "N passed, N failed, N skipped" line that any CI log reader understands.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "vitest-"));
const report = join(dir, "report.json");
const result = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
let summary = null;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  summary = `${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numPendingTests + json.numTodoTests} skipped`;
} catch {
  // vitest died before writing its report; its exit code says why.
}
rmSync(dir, { recursive: true, force: true });
if (summary) console.log(`\ntests: ${summary}`);
process.exit(result.status ?? 1);
