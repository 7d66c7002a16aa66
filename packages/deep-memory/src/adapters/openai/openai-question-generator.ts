import type OpenAI from "openai";
import * as z from "zod";
import { GenerationOutputError, ValidationError } from "../../errors/errors.js";
import type { GenerateQuestionsInput, QuestionGenerator } from "../../ports/question-generator.js";
import { cleanGeneratedQuestions, looksLikeRefusal, quote, stripCodeFence } from "../../question-prompts/clean-questions.js";
import { buildQuestionPrompt, questionPromptPresets } from "../../question-prompts/question-prompt.js";
import { createOpenAIClient, openAIConnectionSchema, parseOptions } from "./openai-client.js";
import { mapOpenAIError } from "./openai-errors.js";

export const openAIQuestionGeneratorOptionsSchema = openAIConnectionSchema.extend({
  model: z.string().min(1).default("gpt-4o"),
  /** Completes "You are a training data generator for <domain> search system." */
  domain: z.string().trim().min(1).default(questionPromptPresets.general.domain),
  /** Extra prompt lines for your kind of corpus; `questionPromptPresets.finance` has an example. */
  instructions: z.array(z.string().trim().min(1)).readonly().default([]),
  /** `null` sends no temperature, for reasoning models that reject one. */
  temperature: z.number().min(0).max(2).nullable().default(0.7),
});
export type OpenAIQuestionGeneratorOptions = z.input<typeof openAIQuestionGeneratorOptionsSchema>;

/**
 * Generates search questions for a chunk with one chat completion in JSON
 * mode. It never retries: the trainer retries provider errors (with
 * `withRetry`) and unusable output (by asking again), so the SDK's own
 * retries are off.
 */
export class OpenAIQuestionGenerator implements QuestionGenerator {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly options: z.output<typeof openAIQuestionGeneratorOptionsSchema>;

  constructor(options: OpenAIQuestionGeneratorOptions = {}) {
    this.options = parseOptions(openAIQuestionGeneratorOptionsSchema, options, "OpenAIQuestionGenerator");
    this.model = this.options.model;
    this.client = createOpenAIClient(this.options, "OpenAIQuestionGenerator");
  }

  async generate({ chunk, count, model, signal }: GenerateQuestionsInput): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new ValidationError(`count must be an integer from 1 to 50, got ${count}`, [{ path: "count", message: "1..50" }]);
    }
    if (chunk.text.trim() === "") {
      throw new GenerationOutputError(`Chunk ${chunk.id} has no text to ask questions about`);
    }
    const prompt = buildQuestionPrompt({ domain: this.options.domain, instructions: this.options.instructions, chunkText: chunk.text, count });
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        {
          model: model ?? this.options.model,
          messages: [
            { role: "system", content: prompt.system },
            { role: "user", content: prompt.user },
          ],
          response_format: { type: "json_object" },
          ...(this.options.temperature === null ? {} : { temperature: this.options.temperature }),
        },
        { signal, timeout: this.options.timeoutMs, maxRetries: 0 },
      );
    } catch (error) {
      throw mapOpenAIError(error, {
        operation: "chat completion",
        timeoutMs: this.options.timeoutMs,
        baseURL: this.client.baseURL,
      });
    }
    return parseGeneratedQuestions(completion, chunk);
  }
}

const answerSchema = z.union([
  z.object({ questions: z.array(z.string()) }),
  // Some OpenAI-compatible servers ignore response_format and answer with a bare array.
  z.array(z.string()),
]);

/** Validates and cleans a completion; throws GenerationOutputError when nothing usable is left. */
export function parseGeneratedQuestions(completion: OpenAI.ChatCompletion, chunk: { id: string; text: string }): string[] {
  const choice = completion.choices?.[0];
  const fail = (problem: string) => new GenerationOutputError(`Unusable questions for chunk ${chunk.id}: ${problem}`);
  if (!choice) throw fail("the completion has no choices");
  if (choice.message.refusal) throw fail(`the model refused: ${quote(choice.message.refusal)}`);
  if (choice.finish_reason === "length") throw fail("the answer was cut off at the token limit");
  if (choice.finish_reason === "content_filter") throw fail("the answer was blocked by the content filter");
  const content = choice.message.content?.trim() ?? "";
  if (content === "") throw fail("the answer is empty");

  let json: unknown;
  try {
    json = JSON.parse(stripCodeFence(content));
  } catch {
    throw fail(looksLikeRefusal(content) ? `the model refused: ${quote(content)}` : `the answer is not valid JSON: ${quote(content)}`);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw fail(`expected {"questions": [string, ...]}, got ${quote(JSON.stringify(json))}`);
  return cleanGeneratedQuestions(Array.isArray(parsed.data) ? parsed.data : parsed.data.questions, chunk);
}
