import { hostname } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultInstanceId } from "./backend.js";

describe("defaultInstanceId", () => {
  it("names a server by what survives its restart: its PGlite folder, or its port against PostgreSQL", () => {
    expect(defaultInstanceId({ dataDir: ".deep-memory/example-server", port: 3000 })).toBe(`${hostname()}:pglite-${resolve(".deep-memory/example-server")}`);
    expect(defaultInstanceId({ dataDir: "a" })).not.toBe(defaultInstanceId({ dataDir: "b" }));
    expect(defaultInstanceId({ databaseUrl: "postgres://db/app", port: 3000 })).toBe(`${hostname()}:port-3000`);
  });

  it("leaves the trainer's host:pid where nothing stable names the server", () => {
    expect(defaultInstanceId({ dataDir: "memory://" })).toBeUndefined();
    expect(defaultInstanceId({ databaseUrl: "postgres://db/app", port: 0 })).toBeUndefined();
  });

  it("never looks like host:pid, whose holder another process would judge by that pid", () => {
    for (const id of [defaultInstanceId({ dataDir: "x" }), defaultInstanceId({ databaseUrl: "u", port: 8080 })]) expect(id).not.toMatch(/:\d+$/);
  });
});
