import { describe, expect, it } from "vitest";
import { PseudoQueryGenerator } from "../adapters/question-generator/pseudo-query-generator.js";
import { copiedPhraseShare, isCopiedQuestion, uncopiedRows } from "./copied-questions.js";

const abstract =
  "Vitamin D deficiency is common in patients with chronic kidney disease. We found that supplementation with cholecalciferol raised serum levels within twelve weeks. " +
  "Bone mineral density improved in the treated group compared with placebo, while parathyroid hormone concentrations fell.";

describe("copied questions", () => {
  it("counts the offline generator's sentence pseudo-queries as copied from their chunk", async () => {
    const queries = await new PseudoQueryGenerator({ style: "sentences" }).generate({ chunk: { id: "a", text: abstract }, count: 5 });
    expect(queries.length).toBeGreaterThan(1);
    for (const q of queries) expect(isCopiedQuestion(q, [abstract])).toBe(true);
  });

  it("does not count questions people ask about the chunk, even with its words", () => {
    expect(copiedPhraseShare("Does taking vitamin D help kidney patients' bones?", abstract)).toBeLessThan(0.8);
    expect(isCopiedQuestion("Cholecalciferol supplements raise serum vitamin D in kidney disease.", [abstract])).toBe(false);
    expect(isCopiedQuestion("What lowers parathyroid hormone?", [abstract])).toBe(false);
  });

  it("needs two content words to call a question copied, and takes any of its chunks", () => {
    expect(copiedPhraseShare("vitamin", abstract)).toBe(0);
    expect(isCopiedQuestion("bone mineral density improved", ["unrelated text", abstract])).toBe(true);
  });

  it("lets every question choose or judge under a copied majority, the others above it, and none when they are too few", () => {
    const flags = (copied: number, total: number) => Array.from({ length: total }, (_, i) => i < copied);
    expect(uncopiedRows(flags(49, 100))).toEqual({ copied: 49, majority: false, rows: Array.from({ length: 100 }, (_, i) => i) });
    expect(uncopiedRows(flags(70, 100))).toEqual({ copied: 70, majority: true, rows: Array.from({ length: 30 }, (_, i) => 70 + i) });
    // 19 others are under the floor of 20; 25 of 300 are under a tenth.
    expect(uncopiedRows(flags(81, 100)).rows).toBeNull();
    expect(uncopiedRows(flags(275, 300)).rows).toBeNull();
    expect(uncopiedRows([])).toEqual({ copied: 0, majority: false, rows: [] });
  });
});
