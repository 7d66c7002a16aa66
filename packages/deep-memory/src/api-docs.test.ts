import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The root entry's names come from the generated API report (kept fresh by
// scripts/api-report.test.ts), so types count too, not only runtime values.
function rootNames(): string[] {
  const report = readFileSync(fileURLToPath(new URL("../api-report.md", import.meta.url)), "utf8");
  const section = /^## @zip\/deep-memory\n\n\d+ names\n\n```\n([\s\S]*?)\n```/m.exec(report);
  if (!section) throw new Error("api-report.md has no section for the root entry");
  return section[1]!.split("\n").map((line) => line.split(":")[0]!);
}

/** Names listed in docs/api.md: list items that start with a name in backticks. */
function documentedNames(): string[] {
  const doc = readFileSync(fileURLToPath(new URL("../../../docs/api.md", import.meta.url)), "utf8");
  return [...doc.matchAll(/^- `([A-Za-z_$][\w$]*)`:/gm)].map((m) => m[1]!);
}

describe("docs/api.md", () => {
  it("documents every name the root entry exports, and no name it does not", () => {
    const exported = rootNames();
    const documented = documentedNames();
    expect(exported.length).toBeGreaterThan(50);
    expect(documented.filter((name) => !exported.includes(name)), "documented but not exported").toEqual([]);
    expect(exported.filter((name) => !documented.includes(name)), "exported but not documented").toEqual([]);
    expect(documented.filter((name, i) => documented.indexOf(name) !== i), "documented twice").toEqual([]);
  });

  it("says what every subpath entry of the package holds", () => {
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { exports: Record<string, unknown> };
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/api.md", import.meta.url)), "utf8");
    const subpaths = Object.keys(manifest.exports).filter((path) => path !== "." && path !== "./package.json");
    expect(subpaths.length).toBeGreaterThan(5);
    // A table row names the entry in backticks (several entries may share a row: `/postgres`, `/pglite`).
    const missing = subpaths.filter((path) => !doc.includes(`\`@zip/deep-memory${path.slice(1)}\``) && !doc.includes(`\`${path.slice(1)}\``));
    expect(missing, "subpaths docs/api.md does not describe").toEqual([]);
  });
});
