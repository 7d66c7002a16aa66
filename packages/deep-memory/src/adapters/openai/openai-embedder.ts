import type OpenAI from "openai";
import * as z from "zod";
import { UpstreamError } from "../../errors/errors.js";
import type { EmbedOptions, Embedder } from "../../ports/embedder.js";
import { withRetry } from "../../retry/with-retry.js";
import { createOpenAIClient, openAIConnectionSchema, parseOptions } from "./openai-client.js";
import { mapOpenAIError, OPENAI_PROVIDER } from "./openai-errors.js";

/** OpenAI's limit on inputs per embeddings request. */
const MAX_INPUTS_PER_REQUEST = 2048;
/**
 * OpenAI also caps the tokens summed over one request (300k). A token is
 * almost never shorter than one character, so a character budget of the same
 * size keeps a batch under it without a tokenizer.
 */
const MAX_CHARS_PER_REQUEST = 300_000;

export const openAIEmbedderOptionsSchema = openAIConnectionSchema.extend({
  model: z.string().min(1).default("text-embedding-3-small"),
  /** Shortened output vectors (text-embedding-3 models only). */
  dimensions: z.number().int().positive().optional(),
  /** Inputs per request. */
  batchSize: z.number().int().min(1).max(MAX_INPUTS_PER_REQUEST).default(256),
  /** Retries per request for rate limits, 5xx, timeouts and dropped connections. */
  maxRetries: z.number().int().min(0).max(20).default(4),
  minRetryDelayMs: z.number().int().min(0).default(500),
  maxRetryDelayMs: z.number().int().min(0).default(30_000),
});
export type OpenAIEmbedderOptions = z.input<typeof openAIEmbedderOptionsSchema>;

/**
 * Embeds texts with OpenAI's (or any OpenAI-compatible) embeddings endpoint.
 * Queries and documents use the same model, so `EmbedOptions.kind` is ignored.
 */
export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly options: z.output<typeof openAIEmbedderOptionsSchema>;

  constructor(options: OpenAIEmbedderOptions = {}) {
    this.options = parseOptions(openAIEmbedderOptionsSchema, options, "OpenAIEmbedder");
    this.model = this.options.model;
    this.client = createOpenAIClient(this.options, "OpenAIEmbedder");
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    // One batch at a time: embedding a corpus is throughput-bound by the rate limit anyway.
    for (const batch of batches(texts, this.options.batchSize)) {
      const { maxRetries, minRetryDelayMs, maxRetryDelayMs } = this.options;
      const embedded = await withRetry(() => this.request(batch, options.signal), {
        retries: maxRetries,
        minDelayMs: minRetryDelayMs,
        maxDelayMs: Math.max(minRetryDelayMs, maxRetryDelayMs),
        signal: options.signal,
      });
      vectors.push(...embedded);
    }
    return vectors;
  }

  private async request(batch: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    // OpenAI rejects an empty string input with a 400 for the whole batch; a
    // single space embeds as "no content", which is what an empty text means.
    const input = batch.map((text) => (text.length === 0 ? " " : text));
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await this.client.embeddings.create(
        {
          model: this.options.model,
          input,
          encoding_format: "float",
          ...(this.options.dimensions === undefined ? {} : { dimensions: this.options.dimensions }),
        },
        // maxRetries here too, for a caller-supplied client that retries by default.
        { signal, timeout: this.options.timeoutMs, maxRetries: 0 },
      );
    } catch (error) {
      throw mapOpenAIError(error, {
        operation: "embeddings request",
        timeoutMs: this.options.timeoutMs,
        baseURL: this.client.baseURL,
      });
    }
    return this.toVectors(response, batch.length);
  }

  private toVectors(response: OpenAI.CreateEmbeddingResponse, expected: number): Float32Array[] {
    const data = [...(response.data ?? [])].sort((a, b) => a.index - b.index);
    const indicesOk = data.length === expected && data.every((item, i) => item.index === i);
    if (!indicesOk) {
      throw new UpstreamError(
        OPENAI_PROVIDER,
        `OpenAI returned ${data.length} embeddings (indices ${data.map((d) => d.index).join(",")}) for ${expected} inputs`,
        { retryable: false },
      );
    }
    const vectors = data.map((item) => Float32Array.from(item.embedding));
    const dims = this.options.dimensions ?? vectors[0]?.length;
    const bad = vectors.findIndex((v) => v.length === 0 || v.length !== dims);
    if (bad !== -1) {
      throw new UpstreamError(
        OPENAI_PROVIDER,
        `OpenAI returned an embedding of ${vectors[bad]!.length} dimensions at index ${bad}, expected ${dims}`,
        { retryable: false },
      );
    }
    return vectors;
  }
}

/** Splits by count and by total characters (see MAX_CHARS_PER_REQUEST), keeping order. */
function* batches(texts: string[], size: number): Generator<string[]> {
  let batch: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (batch.length > 0 && (batch.length >= size || chars + text.length > MAX_CHARS_PER_REQUEST)) {
      yield batch;
      batch = [];
      chars = 0;
    }
    batch.push(text);
    chars += text.length;
  }
  if (batch.length > 0) yield batch;
}
