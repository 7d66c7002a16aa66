import { describe, expect, it, vi } from "vitest";

// Hosts that bring their own embeddings never install `openai`: the root entry must load without it.
vi.mock("openai", () => {
  throw new Error("the root entry imported openai");
});

describe("entry points", () => {
  // Generous timeout: the first import transforms the whole root entry, slow on a loaded machine.
  it("the root entry loads without the optional openai package; the providers live at /openai", { timeout: 30_000 }, async () => {
    const root = await import("./index.js");
    expect(root.DeepMemoryTrainer).toBeTypeOf("function");
    expect(root.questionPromptPresets.finance).toBeDefined();
    expect("OpenAIEmbedder" in root).toBe(false);
    // Neither do the helpers for adapter authors (the AI SDK package builds on them).
    const utils = await import("./provider-utils/index.js");
    expect(utils.buildQuestionPrompt).toBeTypeOf("function");
    // The providers entry does need it (the mock stands in for a missing install).
    await expect(import("./adapters/openai/index.js")).rejects.toThrow(/mock/);
  });
});
