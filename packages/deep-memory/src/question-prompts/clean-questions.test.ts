import { describe, expect, it } from "vitest";
import { cleanGeneratedQuestions, sharesContentWord } from "./clean-questions.js";

const chunk = { id: "c1", text: "An iron condor sells an out-of-the-money call spread and put spread on SPY." };

describe("cleanGeneratedQuestions", () => {
  it("drops short, overlong, refusing and meta questions and repeats, keeping the order", () => {
    const kept = cleanGeneratedQuestions(
      ["What is an iron condor?", "Why?", "x".repeat(301), "I'm sorry, I can't help", "What does the passage say about SPY?", "What is an iron condor?", "How does a put spread on SPY work?"],
      chunk,
    );
    expect(kept).toEqual(["What is an iron condor?", "How does a put spread on SPY work?"]);
  });

  it("throws GENERATION_OUTPUT_INVALID with the reasons when nothing usable is left, or when every question is off-topic", () => {
    expect(() => cleanGeneratedQuestions(["Why?", "I am sorry, no."], chunk)).toThrowError(
      expect.objectContaining({ code: "GENERATION_OUTPUT_INVALID", message: expect.stringContaining("no usable question among 2") }),
    );
    expect(() => cleanGeneratedQuestions(["What is the capital of France?"], chunk)).toThrowError(
      expect.objectContaining({ code: "GENERATION_OUTPUT_INVALID", message: expect.stringContaining("off-topic") }),
    );
  });
});

describe("sharesContentWord", () => {
  it("matches word forms on their first letters, tickers, and numbers", () => {
    expect(sharesContentWord(["What is hedging?"], "Investors hedge currency risk.")).toBe(true);
    expect(sharesContentWord(["Why did GE fall?"], "GE reported weak orders.")).toBe(true);
    expect(sharesContentWord(["What happened in 2008?"], "The 2008 crisis hit banks.")).toBe(true);
  });

  it("ignores question words and stopwords", () => {
    expect(sharesContentWord(["What does this term mean and why is it used?"], "What does the Fed do? This is used a lot.")).toBe(
      false,
    );
  });

  it("compares character pairs for scripts without spaces", () => {
    expect(sharesContentWord(["什么是铁鹰策略？"], "铁鹰策略同时卖出看涨和看跌价差。")).toBe(true);
    expect(sharesContentWord(["巴黎是哪个国家的首都？"], "铁鹰策略同时卖出看涨和看跌价差。")).toBe(false);
  });

  it("does not judge chunks without content words", () => {
    expect(sharesContentWord(["What is this about?"], "— … —")).toBe(true);
  });
});
