import { describe, expect, it } from "vitest";
import { buildQuestionPrompt, questionPromptPresets } from "./question-prompt.js";

const chunkText = "An iron condor sells an out-of-the-money call spread and put spread on SPY.";

describe("buildQuestionPrompt", () => {
  it("states the domain, the count, the JSON format and the rules, and embeds the chunk", () => {
    const { system, user } = buildQuestionPrompt({ domain: "a clinical guidelines library", chunkText, count: 4 });
    expect(system).toMatch(/^You are a training data generator for a clinical guidelines library search system\./);
    expect(user).toContain("Write 4 diverse questions");
    expect(user).toMatch(/factual.*conceptual.*terminology/);
    expect(user).toContain('never refer to "the passage"');
    expect(user).toContain('{"questions": [');
    expect(user).toContain(`<chunk>\n${chunkText}\n</chunk>`);
  });

  it("is domain-neutral by default; the finance preset adds its instruction before the output format", () => {
    const general = buildQuestionPrompt({ ...questionPromptPresets.general, chunkText, count: 1 });
    expect(general.system).toContain("for a knowledge base search system");
    expect(general.user).toContain("Write 1 question that");
    expect(general.user).not.toMatch(/financial|ticker/);
    const finance = buildQuestionPrompt({ ...questionPromptPresets.finance, chunkText, count: 3 });
    expect(finance.system).toContain("a financial/trading knowledge base");
    const lines = finance.user.split("\n");
    const ticker = lines.findIndex((l) => /ticker symbols, strategy names or financial terms, use them verbatim/.test(l));
    expect(ticker).toBeGreaterThan(0);
    expect(ticker).toBeLessThan(lines.findIndex((l) => l.startsWith("Answer with JSON only")));
  });
});
