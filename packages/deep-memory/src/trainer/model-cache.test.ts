import { describe, expect, it } from "vitest";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import { ModelCache } from "./model-cache.js";

const transform = (n: number): QueryTransform => ({ dimensions: n, apply: (q) => q.slice() });

describe("ModelCache", () => {
  it("evicts the least recently used model, not the oldest inserted", () => {
    const cache = new ModelCache(2);
    cache.set("u", "a", transform(1));
    cache.set("u", "b", transform(2));
    expect(cache.get("u", "a")?.dimensions).toBe(1); // a is now the most recently used
    cache.set("u", "c", transform(3));
    expect(cache.get("u", "b")).toBeUndefined();
    expect(cache.get("u", "a")?.dimensions).toBe(1);
    expect(cache.get("u", "c")?.dimensions).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("keeps models apart by user and replaces a model set twice without growing", () => {
    const cache = new ModelCache(2);
    cache.set("u1", "r", transform(1));
    cache.set("u2", "r", transform(2));
    cache.set("u2", "r", transform(4));
    expect(cache.size).toBe(2);
    expect(cache.get("u1", "r")?.dimensions).toBe(1);
    expect(cache.get("u2", "r")?.dimensions).toBe(4);
  });
});
