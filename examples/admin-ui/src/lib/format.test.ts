import { describe, expect, it } from "vitest";
import { formatDateTime, percent, plural, shortId } from "./format.js";

describe("the admin screen's formatting", () => {
  it("shows a missing date as never and a present one as a readable date", () => {
    expect(formatDateTime(null)).toBe("never");
    expect(formatDateTime(undefined)).toBe("never");
    expect(formatDateTime("")).toBe("never");
    expect(formatDateTime("2026-03-14T09:26:00Z")).toMatch(/2026/);
  });

  it("shows a fraction as a percentage with one decimal by default, and a missing one as a dash", () => {
    expect(percent(0.8456)).toBe("84.6%");
    expect(percent(1)).toBe("100.0%");
    expect(percent(0.5, 0)).toBe("50%");
    expect(percent(0)).toBe("0.0%");
    expect(percent(undefined)).toBe("–");
  });

  it("counts in the singular for exactly one and in the (given) plural otherwise", () => {
    expect(plural(1, "chunk")).toBe("1 chunk");
    expect(plural(0, "chunk")).toBe("0 chunks");
    expect(plural(2, "query", "queries")).toBe("2 queries");
    expect(plural(1234, "pair")).toBe(`${(1234).toLocaleString()} pairs`);
  });

  it("shortens a run id to its first eight characters", () => {
    expect(shortId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")).toBe("0f1e2d3c");
  });
});
