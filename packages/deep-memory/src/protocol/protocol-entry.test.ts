import * as wire from "@zip/deep-memory-protocol";
import { describe, expect, it } from "vitest";
import * as entry from "./index.js";

describe("@zip/deep-memory/protocol", () => {
  it("re-exports every wire schema of @zip/deep-memory-protocol, so hosts on the old entry see each route's request and response", () => {
    // The wire format: wire schemas, route bodies and params, converters, SSE and headers. Domain and option
    // schemas are the core's own (its root and /schemas entry).
    const wireNames = Object.keys(wire).filter((name) => /(Wire\w*Schema|RequestSchema|ResponseSchema|ParamsSchema)$|^toWire|Sse|PROTOCOL|HEADER/.test(name));
    expect(wireNames.length).toBeGreaterThan(30);
    expect(wireNames.filter((name) => !(name in entry))).toEqual([]);
  });
});
