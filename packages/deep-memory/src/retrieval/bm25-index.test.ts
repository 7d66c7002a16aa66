import { describe, expect, it } from "vitest";
import { Bm25Index } from "./bm25-index.js";
import { englishTerms } from "./english-analyzer.js";

/** BM25 written out term by term (bm25s's "lucene" variant), to check the index against. */
function bruteForce(docs: { id: string; text: string }[], query: string, k1 = 1.5, b = 0.75) {
  const terms = docs.map((d) => englishTerms(d.text));
  const avgdl = terms.reduce((s, t) => s + t.length, 0) / docs.length;
  return docs
    .map((d, i) => {
      let score = 0;
      for (const q of englishTerms(query)) {
        const df = terms.filter((t) => t.includes(q)).length;
        if (!df) continue;
        const tf = terms[i]!.filter((t) => t === q).length;
        const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
        score += (idf * tf) / (tf + k1 * (1 - b + (b * terms[i]!.length) / avgdl));
      }
      return { id: d.id, score };
    })
    .filter((h) => h.score > 0)
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

const corpus = [
  { id: "vwap", text: "VWAP is the volume-weighted average price of a stock over the trading day." },
  { id: "twap", text: "TWAP averages prices over time, ignoring volume." },
  { id: "stops", text: "A stop-loss order sells when the price falls below a level." },
  { id: "limits", text: "Limit orders execute at the limit price or better; limit orders rest on the book." },
  { id: "vol", text: "Volatility measures how much prices move." },
];

describe("englishTerms", () => {
  it("lower-cases, drops stop words and one-letter words, stems with Porter2 and keeps words with digits whole", () => {
    expect(englishTerms("The Running of the p53 genes in 1990s, a study")).toEqual(["run", "p53", "gene", "1990s", "studi"]);
    // Letters outside ASCII are word characters; a one-letter word ("β") is dropped, as bm25s does.
    expect(englishTerms("Généralisation of β-cells and IL-6")).toEqual(["généralis", "cell", "il"]);
  });
});

describe("Bm25Index", () => {
  it("scores exactly as BM25 written out by hand, best first, leaving out documents with no query term", () => {
    const index = new Bm25Index();
    index.upsert(corpus);
    for (const query of ["average price volume", "limit order", "how do prices move over time?", "nothing matches zzz"]) {
      const hits = index.search(query, 10);
      const expected = bruteForce(corpus, query);
      expect(hits.map((h) => h.id)).toEqual(expected.map((h) => h.id));
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 10));
    }
  });

  it("honours k1 and b", () => {
    const index = new Bm25Index({ k1: 1.2, b: 0.3 });
    index.upsert(corpus);
    const hits = index.search("limit price", 3);
    expect(hits).toEqual(bruteForce(corpus, "limit price", 1.2, 0.3).slice(0, 3).map((h) => ({ id: h.id, score: expect.closeTo(h.score, 10) })));
  });

  it("updates in place: a replaced document is found by its new text only, a deleted one not at all, statistics follow", () => {
    const index = new Bm25Index();
    index.upsert(corpus);
    index.upsert([{ id: "twap", text: "Iceberg orders hide their size." }]);
    expect(index.search("time weighted", 5).map((h) => h.id)).not.toContain("twap");
    expect(index.search("iceberg", 5).map((h) => h.id)).toEqual(["twap"]);
    expect(index.delete(["vol", "missing"])).toBe(1);
    expect(index.size).toBe(4);
    const rest = [...corpus.filter((d) => d.id !== "vol" && d.id !== "twap"), { id: "twap", text: "Iceberg orders hide their size." }];
    for (const query of ["prices move", "orders price", "iceberg size volume"]) {
      expect(index.search(query, 10).map((h) => ({ id: h.id, score: +h.score.toFixed(9) }))).toEqual(
        bruteForce(rest, query).map((h) => ({ id: h.id, score: +h.score.toFixed(9) })),
      );
    }
    // A freed slot is reused without leaking the old document's terms.
    index.upsert([{ id: "new", text: "Market makers quote both sides." }]);
    expect(index.search("volatility", 5)).toEqual([]);
    expect(index.search("market", 5).map((h) => h.id)).toEqual(["new"]);
  });

  it("filters candidates before taking the top k", () => {
    const index = new Bm25Index();
    index.upsert(corpus);
    const all = index.search("price", 10).map((h) => h.id);
    const filtered = index.search("price", 2, (id) => id !== all[0]);
    expect(filtered.map((h) => h.id)).toEqual(all.slice(1, 3));
  });

  it("handles many documents and bulk deletes", () => {
    const index = new Bm25Index();
    const docs = Array.from({ length: 2000 }, (_, i) => ({ id: `d${i}`, text: `common word${i % 50} topic${i % 7} item${i}` }));
    index.upsert(docs);
    expect(index.search("item1234", 3).map((h) => h.id)).toEqual(["d1234"]);
    expect(index.delete(docs.filter((_, i) => i % 2 === 0).map((d) => d.id))).toBe(1000);
    expect(index.search("item1234", 3)).toEqual([]);
    const hits = index.search("word7 topic3", 20);
    expect(hits.map((h) => h.id)).toEqual(bruteForce(docs.filter((_, i) => i % 2 === 1), "word7 topic3").slice(0, 20).map((h) => h.id));
  });

  it("refuses bad options with a validation error", () => {
    expect(() => new Bm25Index({ k1: -1 })).toThrow(/k1/);
    expect(() => new Bm25Index({ b: 2 })).toThrow(/b/);
  });
});
