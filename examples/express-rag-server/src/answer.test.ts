import type { SearchHit } from "@zip/deep-memory";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtractiveAnswerer, OpenAIAnswerer } from "./answer.js";

const hits: SearchHit[] = [
  { id: "stop-loss#0", text: "Stop-loss orders. A stop becomes a market order.", score: 0.8, metadata: { title: "Stop-loss orders" } },
  { id: "stop-loss#1", text: "Stop-loss orders. A stop-limit avoids slippage.", score: 0.7, metadata: { title: "Stop-loss orders" } },
  { id: "slippage#0", text: "Slippage. Fills differ from quotes.", score: 0.6, metadata: { title: "Slippage" } },
];

describe("ExtractiveAnswerer", () => {
  it("quotes the best passage with its source and names the other notes once", async () => {
    const answer = await new ExtractiveAnswerer().answer({ question: "what is a stop?", passages: hits });
    expect(answer).toBe('From "Stop-loss orders": A stop becomes a market order.\n\nSee also: Slippage.');
  });

  it("says so when nothing was retrieved", async () => {
    expect(await new ExtractiveAnswerer().answer({ question: "?", passages: [] })).toMatch(/nothing/);
  });
});

describe("OpenAIAnswerer", () => {
  const seen: unknown[] = [];
  const server = setupServer(
    http.post("http://openai.test/v1/chat/completions", async ({ request }) => {
      seen.push(await request.json());
      return HttpResponse.json({
        id: "c1",
        object: "chat.completion",
        created: 0,
        model: "gpt-4o",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: " A stop becomes a market order [stop-loss#0]. " } }],
      });
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());

  it("asks gpt-4o with the retrieved passages and their ids, and returns its reply", async () => {
    const answerer = new OpenAIAnswerer({ apiKey: "sk-test", baseURL: "http://openai.test/v1" });
    const answer = await answerer.answer({ question: "What is a stop?", passages: hits });
    expect(answer).toBe("A stop becomes a market order [stop-loss#0].");
    const body = seen[0] as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe("gpt-4o");
    expect(body.messages[1]?.content).toContain("[stop-loss#0] Stop-loss orders. A stop becomes a market order.");
    expect(body.messages[1]?.content).toContain("Question: What is a stop?");
  });
});
