import { describe, expect, it } from "vitest";
import { GenerationOutputError, ValidationError } from "../../errors/errors.js";
import { PseudoQueryGenerator, PSEUDO_QUERY_MODEL, PSEUDO_SENTENCES_MODEL } from "./pseudo-query-generator.js";

const abstract = [
  "Sudden infant death syndrome (SIDS) remains a leading cause of death in infants aged one month to one year.",
  "We found that prone sleeping position increases the risk of SIDS in healthy newborns.",
  "In a cohort of 12,000 infants, the incidence of SIDS was 0.5 per 1000 live births.",
  "Maternal smoking during pregnancy was associated with a twofold higher risk.",
  "These results suggest that supine sleeping and smoke-free homes reduce infant mortality.",
].join(" ");

const generator = new PseudoQueryGenerator();
const generate = (text: string, count: number, id = "chunk-1") => generator.generate({ chunk: { id, text }, count });

describe("PseudoQueryGenerator", () => {
  it("names itself as an offline pseudo-query generator", () => {
    expect(generator.model).toBe(PSEUDO_QUERY_MODEL);
    expect(PSEUDO_QUERY_MODEL).toBe("offline:pseudo-queries/v1");
  });

  it("returns the requested number of distinct, non-empty queries, none of them the whole chunk", async () => {
    const queries = await generate(abstract, 5);
    expect(queries).toHaveLength(5);
    const keys = queries.map((q) => q.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim());
    expect(new Set(keys).size).toBe(5);
    for (const query of queries) {
      expect(query.trim()).toBe(query);
      expect(query.length).toBeGreaterThan(5);
      expect(query.split(" ").length).toBeLessThanOrEqual(25);
      expect(query).not.toBe(abstract);
    }
  });

  it("mixes questions with claim-like statements instead of copying the first sentence", async () => {
    const queries = await generate(abstract, 4);
    expect(queries.some((q) => q.endsWith("?"))).toBe(true);
    expect(queries.some((q) => !q.endsWith("?"))).toBe(true);
    expect(queries[0]).not.toBe(abstract.split(". ")[0]);
  });

  it("is deterministic per chunk id, and another id or seed draws another set", async () => {
    expect(await generate(abstract, 6, "a")).toEqual(await generate(abstract, 6, "a"));
    const others = [await generate(abstract, 6, "b"), await new PseudoQueryGenerator({ seed: 7 }).generate({ chunk: { id: "a", text: abstract }, count: 6 })];
    for (const other of others) expect(other).not.toEqual(await generate(abstract, 6, "a"));
  });

  it("asks about abbreviations, tickers and relations the chunk states", async () => {
    const many = await generate(abstract, 12);
    expect(many.some((q) => /SIDS/.test(q) && q.endsWith("?"))).toBe(true);
    expect(many).toContain("Does prone sleeping position increase the risk of SIDS in healthy newborns?");

    const market = "Apple ($AAPL) shares rose 3% after the company reported record iPhone revenue. Higher interest rates reduce the valuation of growth stocks.";
    const marketQueries = await generate(market, 10);
    expect(marketQueries.some((q) => q.includes("$AAPL"))).toBe(true);
    expect(marketQueries).toContain("Do higher interest rates reduce the valuation of growth stocks?");
  });

  it("strips discourse markers so sentences read like claims", async () => {
    const queries = await generate("We found that regular exercise improves insulin sensitivity in older adults with obesity.", 4);
    expect(queries).toContain("Regular exercise improves insulin sensitivity in older adults with obesity");
    expect(queries.every((q) => !/^we found/i.test(q))).toBe(true);
  });

  it("gives fewer queries for very short chunks, never empty strings", async () => {
    expect(await generate("Buy low.", 4)).toEqual(["Buy low"]);
    const short = await generate("RSI above 70 signals overbought conditions.", 4);
    expect(short.length).toBeGreaterThan(0);
    expect(short.every((q) => q.trim().length > 0)).toBe(true);
  });

  it("rejects empty chunks and chunks with nothing to ask as unusable output", async () => {
    await expect(generate("   \n ", 3)).rejects.toThrow(GenerationOutputError);
    await expect(generate("   \n ", 3)).rejects.toThrow("empty chunk");
    await expect(generate("a", 3)).rejects.toThrow(GenerationOutputError);
  });

  it("rejects a count outside 1..50", async () => {
    await expect(generate(abstract, 0)).rejects.toThrow(ValidationError);
  });
});

describe('PseudoQueryGenerator, style "sentences"', () => {
  const sentences = new PseudoQueryGenerator({ style: "sentences" });
  const ask = (text: string, count: number) => sentences.generate({ chunk: { id: "chunk-1", text }, count });

  it("records itself under its own model name", () => {
    expect(sentences.model).toBe(PSEUDO_SENTENCES_MODEL);
    expect(sentences.model).not.toBe(PSEUDO_QUERY_MODEL);
  });

  it("gives each sentence once as a standalone statement: no parentheticals, lead-ins or p-values", async () => {
    const queries = await ask(`${abstract} Mortality fell by a third (p < 0.01) after the campaign; see the appendix.`, 50);
    expect(queries).toHaveLength(6);
    expect(queries).toContain("Sudden infant death syndrome remains a leading cause of death in infants aged one month to one year");
    expect(queries).toContain("Prone sleeping position increases the risk of SIDS in healthy newborns");
    expect(queries).toContain("Supine sleeping and smoke-free homes reduce infant mortality");
    expect(queries).toContain("Mortality fell by a third after the campaign");
    expect(new Set(queries).size).toBe(queries.length);
  });

  it("keeps the most salient sentences when asked for fewer, and the same ones every time", async () => {
    const all = await ask(abstract, 50);
    const three = await ask(abstract, 3);
    expect(three).toEqual(all.slice(0, 3));
    expect(await ask(abstract, 3)).toEqual(three);
  });

  it("crops long sentences to 30 words and drops fragments", async () => {
    const long = `The ${Array.from({ length: 40 }, (_, i) => `factor${i}`).join(" ")} were measured. Too short here.`;
    const queries = await ask(long, 5);
    expect(queries).toHaveLength(1);
    expect(queries[0]!.split(" ")).toHaveLength(30);
  });

  it("rejects an unknown style", () => {
    expect(() => new PseudoQueryGenerator({ style: "questions" as never })).toThrow(ValidationError);
  });
});
