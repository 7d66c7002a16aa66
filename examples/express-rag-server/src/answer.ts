import type { SearchHit } from "@zip/deep-memory";
import OpenAI from "openai";

/** Writes the chat reply from the retrieved passages. */
export interface Answerer {
  readonly label: string;
  answer(input: { question: string; passages: readonly SearchHit[]; signal?: AbortSignal }): Promise<string>;
}

function titleOf(hit: SearchHit): string {
  const title = hit.metadata?.title;
  return typeof title === "string" ? title : hit.id;
}

/**
 * The offline reply: the best passage quoted with its source. No model, so it
 * never says more than the knowledge base does; what changes with deep memory
 * is which passage comes first.
 */
export class ExtractiveAnswerer implements Answerer {
  readonly label = "extractive (no LLM)";

  async answer({ passages }: { question: string; passages: readonly SearchHit[] }): Promise<string> {
    const [best, ...rest] = passages;
    if (!best) return "I found nothing in the knowledge base about that.";
    const body = best.text.startsWith(`${titleOf(best)}. `) ? best.text.slice(titleOf(best).length + 2) : best.text;
    const others = [...new Set(rest.map(titleOf))].filter((title) => title !== titleOf(best));
    const also = others.length > 0 ? `\n\nSee also: ${others.join("; ")}.` : "";
    return `From "${titleOf(best)}": ${body}${also}`;
  }
}

/** A grounded reply from an OpenAI chat model (gpt-4o by default), citing passage ids. */
export class OpenAIAnswerer implements Answerer {
  readonly label: string;
  private readonly client: OpenAI;
  private readonly model: string;

  constructor(options: { apiKey?: string; baseURL?: string; model?: string } = {}) {
    this.model = options.model ?? "gpt-4o";
    this.label = `OpenAI ${this.model}`;
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 2, timeout: 60_000 });
  }

  async answer({ question, passages, signal }: { question: string; passages: readonly SearchHit[]; signal?: AbortSignal }): Promise<string> {
    const context = passages.map((p) => `[${p.id}] ${p.text}`).join("\n\n");
    const completion = await this.client.chat.completions.create(
      {
        model: this.model,
        temperature: 0.2,
        messages: [
          {
            role: "system",
            content:
              "You answer questions for a trading desk using only the passages given. Cite passage ids in brackets. " +
              "If the passages do not answer the question, say so.",
          },
          { role: "user", content: `Passages:\n\n${context}\n\nQuestion: ${question}` },
        ],
      },
      signal ? { signal } : {},
    );
    return completion.choices[0]?.message.content?.trim() || "The model returned no answer.";
  }
}
