import type OpenAI from "openai";
import * as z from "zod";
import { GenerationOutputError, ValidationError } from "../../errors/errors.js";
import type { GenerateQuestionsInput, QuestionGenerator } from "../../ports/question-generator.js";
import { createOpenAIClient, openAIConnectionSchema, parseOptions } from "./openai-client.js";
import { mapOpenAIError } from "./openai-errors.js";

export const openAIQuestionGeneratorOptionsSchema = openAIConnectionSchema.extend({
  model: z.string().min(1).default("gpt-4o"),
  /** Completes "You are a training data generator for <domain> search system." */
  domain: z.string().trim().min(1).default("a financial/trading knowledge base"),
  /** `null` sends no temperature, for reasoning models that reject one. */
  temperature: z.number().min(0).max(2).nullable().default(0.7),
});
export type OpenAIQuestionGeneratorOptions = z.input<typeof openAIQuestionGeneratorOptionsSchema>;

export const MIN_QUESTION_LENGTH = 8;
export const MAX_QUESTION_LENGTH = 300;

export interface QuestionPrompt {
  system: string;
  user: string;
}

/** The two messages of a generation request; the chunk sits between `<chunk>` tags. */
export function buildQuestionPrompt(input: { domain: string; chunkText: string; count: number }): QuestionPrompt {
  const { domain, chunkText, count } = input;
  const n = count === 1 ? "1 question" : `${count} diverse questions`;
  const system =
    `You are a training data generator for ${domain} search system. ` +
    `You write the questions its users would type into the search box, each one answered by a single chunk of the knowledge base.`;
  const user = [
    `Write ${n} that the chunk below answers on its own.`,
    `Mix the kinds: factual (a specific fact, figure or name in the chunk), conceptual (how or why something works), and terminology (what a term means).`,
    `When the chunk has ticker symbols, strategy names or financial terms, use them verbatim.`,
    `Each question must stand alone: never refer to "the passage", "the text", "the chunk", "the author" or "above".`,
    `Write in the language of the chunk.`,
    `Answer with JSON only, in the form {"questions": ["...", "..."]}.`,
    ``,
    `<chunk>`,
    chunkText,
    `</chunk>`,
  ].join("\n");
  return { system, user };
}

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
    const prompt = buildQuestionPrompt({ domain: this.options.domain, chunkText: chunk.text, count });
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

/**
 * The checks every LLM question generator applies to a model's question
 * list: drops questions too short or long, refusals and ones that refer to
 * "the passage", removes repeats, and rejects an answer where no question
 * touches the chunk. Throws GenerationOutputError when nothing usable is left.
 */
export function cleanGeneratedQuestions(raw: readonly string[], chunk: { id: string; text: string }): string[] {
  const fail = (problem: string) => new GenerationOutputError(`Unusable questions for chunk ${chunk.id}: ${problem}`);
  if (raw.length === 0) throw fail("the question list is empty");

  const kept: string[] = [];
  const dropped = new Map<string, number>();
  const drop = (reason: string) => dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
  for (const question of raw.map((q) => q.trim())) {
    if (question.length < MIN_QUESTION_LENGTH) drop(`shorter than ${MIN_QUESTION_LENGTH} characters`);
    else if (question.length > MAX_QUESTION_LENGTH) drop(`longer than ${MAX_QUESTION_LENGTH} characters`);
    else if (looksLikeRefusal(question)) drop("a refusal");
    else if (META_REFERENCE.test(question)) drop(`refers to "the passage" or similar`);
    else if (!kept.includes(question)) kept.push(question);
  }
  if (kept.length === 0) {
    const reasons = [...dropped].map(([reason, n]) => `${n} ${reason}`).join(", ");
    throw fail(`no usable question among ${raw.length} (${reasons})`);
  }
  if (!sharesContentWord(kept, chunk.text)) {
    throw fail(`no question mentions anything from the chunk (off-topic?): ${quote(kept.join(" | "))}`);
  }
  return kept;
}

/** Questions a search user would never type; they also teach the model nothing about the corpus. */
const META_REFERENCE = /\b(?:the|this|that|above|given|provided)\s+(?:passage|text|chunk|excerpt|snippet|paragraph)\b/i;

const REFUSAL = /^(?:i['’]?m sorry|i am sorry|sorry\b|i can(?:no|['’])t\b|i am unable|i['’]?m unable|i['’]?m not able|as an ai\b|unfortunately\b)/i;
function looksLikeRefusal(text: string): boolean {
  return REFUSAL.test(text.trim());
}

/**
 * The off-topic check. A question "touches" the chunk when it shares one
 * content word with it: lower-cased words of 3+ letters (or with a digit, or
 * an upper-case ticker like "GE") outside a stopword list, compared on their
 * first 4 letters so "hedging" meets "hedge" and "rates" meets "rate". For
 * scripts written without spaces (Chinese, Japanese, Thai...) character
 * pairs stand in for words.
 *
 * The check is deliberately applied to the whole answer, not per question:
 * one well-paraphrased question with no shared word is kept, and only an
 * answer where no question touches the chunk at all is rejected. Chunks with
 * no content words (numbers only, say) are not checked.
 */
export function sharesContentWord(questions: string[], chunkText: string): boolean {
  const chunkWords = contentWords(chunkText);
  if (chunkWords.size === 0) return true;
  return questions.some((q) => [...contentWords(q)].some((w) => chunkWords.has(w)));
}

const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

function contentWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (UNSPACED_SCRIPT.test(token)) {
      for (let i = 0; i + 1 < token.length; i++) words.add(token.slice(i, i + 2));
      if (token.length === 1) words.add(token);
      continue;
    }
    const lower = token.toLowerCase();
    const ticker = /^[A-Z]{2,5}$/.test(token);
    const hasDigit = /\p{N}/u.test(token);
    if (STOPWORDS.has(lower) || (lower.length < 3 && !ticker && !hasDigit)) continue;
    words.add(lower.length >= 4 ? lower.slice(0, 4) : lower);
  }
  return words;
}

// Function words and the words every question uses ("what does ... mean").
const STOPWORDS = new Set(
  (
    "the and for are but not you all any can had her was one our out has his how its may new now old see two way who did " +
    "get let say she too use does done doing what when where which while whom whose why with within without would could " +
    "should shall will might must have having been being were this that these those there their them they then than " +
    "from into onto over under about above below after before between during through until upon also just only very " +
    "more most much many some such each other another same both either neither here your yours ours mine what's " +
    "explain describe define definition mean means meaning term terms example examples called name named work works " +
    "used using uses role purpose important difference different according question questions answer"
  ).split(" "),
);

function stripCodeFence(text: string): string {
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(text);
  return fenced ? fenced[1]! : text;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}
