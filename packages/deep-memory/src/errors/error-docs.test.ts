import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { httpStatusByCode } from "./http-status.js";

// docs/architecture.md's error table is what users branch on: it must name every code with the status the servers send.
const docs = readFileSync(new URL("../../../../docs/architecture.md", import.meta.url), "utf8");
const documented = new Map(
  [...docs.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code!, Number(status)] as const),
);

describe("docs/architecture.md's error table", () => {
  it("lists every error code with its HTTP status, and no code that does not exist", () => {
    expect(Object.fromEntries(documented)).toEqual(httpStatusByCode);
  });
});
