import {
  questionPromptPresets,
  GenerationOutputError,
  ValidationError,
  type GenerateQuestionsInput,
  type QuestionGenerator,
} from "@zip/deep-memory";
import {
  buildQuestionPrompt,
  cleanGeneratedQuestions,
  type QuestionPrompt,
  type QuestionPromptInput,
} from "@zip/deep-memory/provider-utils";
import { generateText, Output, type LanguageModel } from "ai";
import * as z from "zod";
import { mapAiSdkError, withTimeout } from "./ai-sdk-errors.js";
import { modelIdOf, parseOptions, providerOf, type ProviderOptions } from "./options.js";


const languageModel = z.custom<LanguageModel>(
  (v) => (typeof v === "string" && v.length > 0) || (typeof v === "object" && v !== null && typeof (v as { doGenerate?: unknown }).doGenerate === "function"),
  "expected an AI SDK language model (e.g. openai(\"gpt-4o\")) or a gateway model id",
);

export const aiSdkQuestionGeneratorOptionsSchema = z.object({
  /** Any AI SDK language model with structured output: `openai("gpt-4o")`, `anthropic(...)`, `mistral(...)`, `ollama(...)`, or a gateway id. */
  model: languageModel,
  /**
   * Turns a model id into a model, for runs that ask for another one (the
   * trainer's `generationModel` option or `generate({ model })`), e.g.
   * `(id) => openai(id)`. Without it such a run is refused.
   */
  resolveModel: z.custom<(modelId: string) => LanguageModel>((v) => typeof v === "function").optional(),
  /** Completes "You are a training data generator for <domain> search system." */
  domain: z.string().trim().min(1).default(questionPromptPresets.general.domain),
  /** Extra prompt lines for your kind of corpus; `questionPromptPresets.finance` has an example. */
  instructions: z.array(z.string().trim().min(1)).readonly().default([]),
  /** `null` sends no temperature, for reasoning models that reject one. */
  temperature: z.number().min(0).max(2).nullable().default(0.7),
  maxOutputTokens: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().default(60_000),
  /** Your own prompt; the default is the OpenAI generator's (`buildQuestionPrompt`). */
  prompt: z.custom<(input: QuestionPromptInput) => QuestionPrompt>((v) => typeof v === "function").optional(),
  providerOptions: z.custom<ProviderOptions>((v) => typeof v === "object" && v !== null).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type AiSdkQuestionGeneratorOptions = z.input<typeof aiSdkQuestionGeneratorOptionsSchema>;

/** What the model must return; the AI SDK sends it as the provider's JSON schema (OpenAI structured outputs and the like). */
export const generatedQuestionsSchema = z.object({
  questions: z.array(z.string()).describe("Questions a user would type into the search box, each answered by the chunk on its own"),
});

/**
 * Writes the questions a chunk answers with any AI SDK language model, using
 * structured output (`generateText` with `Output.object` and a zod schema, the
 * AI SDK 6 replacement for `generateObject`). Like OpenAIQuestionGenerator it
 * never retries itself: the trainer retries provider errors (rate limits
 * after their Retry-After, 5xx, timeouts) and asks again for unusable output;
 * the same checks drop refusals, meta questions and off-topic answers.
 */
export class AiSdkQuestionGenerator implements QuestionGenerator {
  readonly model: string;
  private readonly options: z.output<typeof aiSdkQuestionGeneratorOptionsSchema>;

  constructor(options: AiSdkQuestionGeneratorOptions) {
    this.options = parseOptions(aiSdkQuestionGeneratorOptionsSchema, options, "AiSdkQuestionGenerator");
    this.model = modelIdOf(this.options.model);
  }

  async generate({ chunk, count, model: requested, signal }: GenerateQuestionsInput): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new ValidationError(`count must be an integer from 1 to 50, got ${count}`, [{ path: "count", message: "1..50" }]);
    }
    if (chunk.text.trim() === "") throw new GenerationOutputError(`Chunk ${chunk.id} has no text to ask questions about`);
    const model = this.modelFor(requested);
    const { domain, instructions, temperature, maxOutputTokens, timeoutMs, providerOptions, headers } = this.options;
    const prompt = (this.options.prompt ?? buildQuestionPrompt)({ domain, instructions, chunkText: chunk.text, count });
    const call = withTimeout(signal, timeoutMs);
    let questions: string[];
    try {
      const result = await generateText({
        model,
        system: prompt.system,
        prompt: prompt.user,
        output: Output.object({ schema: generatedQuestionsSchema, name: "questions" }),
        maxRetries: 0,
        abortSignal: call.signal,
        ...(temperature === null ? {} : { temperature }),
        ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
        ...(providerOptions ? { providerOptions } : {}),
        ...(headers ? { headers } : {}),
      });
      ({ questions } = result.output);
    } catch (error) {
      throw mapAiSdkError(error, {
        provider: providerOf(model),
        operation: "question generation",
        outputErrors: "generation",
        ...(call.timedOut() ? { timedOutAfterMs: timeoutMs } : {}),
      });
    }
    return cleanGeneratedQuestions(questions, chunk);
  }

  private modelFor(requested: string | undefined): LanguageModel {
    const configured = this.options.model;
    if (requested === undefined || requested === modelIdOf(configured)) return configured;
    if (this.options.resolveModel) return this.options.resolveModel(requested);
    if (typeof configured === "string") return requested;
    throw new ValidationError(
      `This run asks for model "${requested}", but AiSdkQuestionGenerator was given a ${modelIdOf(configured)} model object: pass resolveModel, e.g. (id) => openai(id)`,
      [{ path: "resolveModel", message: "required to switch models per run" }],
    );
  }
}
