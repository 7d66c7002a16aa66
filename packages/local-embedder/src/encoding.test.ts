import { describe, expect, it } from "vitest";
import { truncateKeepingSpecials } from "./encoding.js";

describe("truncateKeepingSpecials", () => {
  const bert = { prefix: 1, suffix: 1 };
  it("shortens the text but keeps the closing special token, as Python tokenizers do", () => {
    expect(truncateKeepingSpecials([101, 1, 2, 3, 4, 102], 4, bert)).toEqual([101, 1, 2, 102]);
  });
  it("leaves texts that fit alone", () => {
    expect(truncateKeepingSpecials([101, 1, 102], 4, bert)).toEqual([101, 1, 102]);
  });
  it("handles tokenizers with no closing token", () => {
    expect(truncateKeepingSpecials([1, 2, 3, 4], 2, { prefix: 0, suffix: 0 })).toEqual([1, 2]);
  });
});
