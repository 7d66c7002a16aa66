import { describe, expect, it } from "vitest";
import { normalize, poolAndNormalize } from "./pooling.js";

// Two rows, three positions, two dimensions; row 0 has one padded position.
const hidden = Float32Array.from([
  /* row 0 */ 1, 0, 3, 4, 100, 100,
  /* row 1 */ 0, 2, 0, 2, 0, 2,
]);
const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 1n, 1n]);

describe("poolAndNormalize", () => {
  it("mean-pools over real tokens only, then L2-normalises", () => {
    const [first, second] = poolAndNormalize({ hidden, mask, batch: 2, sequence: 3, dimensions: 2 }, "mean");
    // Mean of (1,0) and (3,4) is (2,2): the padded (100,100) must not count.
    expect(Array.from(first!)).toEqual([Math.SQRT1_2, Math.SQRT1_2].map((v) => expect.closeTo(v, 6)));
    expect(Array.from(second!)).toEqual([0, 1]);
  });

  it("cls pooling takes the first token", () => {
    const [first] = poolAndNormalize({ hidden, mask, batch: 2, sequence: 3, dimensions: 2 }, "cls");
    expect(Array.from(first!)).toEqual([1, 0]);
  });

  it("returns zeros, not NaN, for a row with no real tokens or a zero vector", () => {
    const [row] = poolAndNormalize(
      { hidden: Float32Array.from([5, 5]), mask: [0], batch: 1, sequence: 1, dimensions: 2 },
      "mean",
    );
    expect(Array.from(row!)).toEqual([0, 0]);
    expect(Array.from(normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});
