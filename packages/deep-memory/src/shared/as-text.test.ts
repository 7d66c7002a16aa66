import { describe, expect, it } from "vitest";
import { asText } from "./as-text.js";

describe("asText", () => {
  it("keeps strings, reads null and undefined as empty, and shows anything else as JSON", () => {
    expect(asText("a note")).toBe("a note");
    expect(asText(null)).toBe("");
    expect(asText(undefined)).toBe("");
    expect(asText(42)).toBe("42");
    expect(asText({ text: "x" })).toBe('{"text":"x"}');
    expect(asText(["x"])).toBe('["x"]');
  });
});
