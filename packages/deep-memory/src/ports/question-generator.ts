export interface GenerateQuestionsInput {
  chunk: { id: string; text: string };
  /** How many questions to aim for; generators may return a few more or fewer. */
  count: number;
  /** Overrides the generator's default model for this call (trainer option `generationModel`). */
  model?: string;
  signal?: AbortSignal;
}

/**
 * Writes questions a chunk answers. Throw `GenerationOutputError` for unusable
 * output (the trainer retries the chunk, then skips it) and `UpstreamError` for
 * provider failures (retried with backoff honouring `retryAfterMs`).
 */
export interface QuestionGenerator {
  /** Recorded on the run, e.g. "gpt-4o" or "offline:pseudo-queries". */
  readonly model: string;
  generate(input: GenerateQuestionsInput): Promise<string[]>;
}
