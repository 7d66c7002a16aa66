/**
 * The prompt LLM question generators send (OpenAI, the AI SDK adapter, your
 * own): domain-neutral by default; presets tune it for a kind of corpus.
 */

export interface QuestionPrompt {
  system: string;
  user: string;
}

export interface QuestionPromptInput {
  /** Completes "You are a training data generator for <domain> search system." */
  domain: string;
  chunkText: string;
  count: number;
  /** Extra instruction lines for this kind of corpus, placed before the output format. */
  instructions?: readonly string[];
}

/** Settings for a kind of corpus, to spread into a generator's options. */
export interface QuestionPromptPreset {
  domain: string;
  instructions: readonly string[];
}

export const questionPromptPresets = {
  /** The default: any knowledge base. */
  general: { domain: "a knowledge base", instructions: [] },
  /** Financial and trading documents (the corpus this SDK was first built for). */
  finance: {
    domain: "a financial/trading knowledge base",
    instructions: ["When the chunk has ticker symbols, strategy names or financial terms, use them verbatim."],
  },
} as const satisfies Record<string, QuestionPromptPreset>;

/** The two messages of a generation request; the chunk sits between `<chunk>` tags. */
export function buildQuestionPrompt(input: QuestionPromptInput): QuestionPrompt {
  const { domain, chunkText, count, instructions = [] } = input;
  const n = count === 1 ? "1 question" : `${count} diverse questions`;
  const system =
    `You are a training data generator for ${domain} search system. ` +
    `You write the questions its users would type into the search box, each one answered by a single chunk of the knowledge base.`;
  const user = [
    `Write ${n} that the chunk below answers on its own.`,
    `Mix the kinds: factual (a specific fact, figure or name in the chunk), conceptual (how or why something works), and terminology (what a term means).`,
    `Use the chunk's own names and terms verbatim where a user would type them.`,
    ...instructions,
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
