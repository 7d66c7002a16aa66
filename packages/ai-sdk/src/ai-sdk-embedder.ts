import { UpstreamError, ValidationError, type EmbedOptions, type Embedder } from "@zip/deep-memory";
import { withRetry } from "@zip/deep-memory/provider-utils";
import { embedMany, type EmbeddingModel } from "ai";
import * as z from "zod";
import { mapAiSdkError, withTimeout } from "./ai-sdk-errors.js";
import { modelIdOf, parseOptions, providerOf, type ProviderOptions } from "./options.js";


export const aiSdkEmbedderOptionsSchema = z.object({
  /** Any AI SDK embedding model: `openai.embedding("text-embedding-3-small")`, `mistral.embedding(...)`, `cohere.embedding(...)`, `ollama.embedding(...)`, or a gateway id. */
  model: z.custom<EmbeddingModel>(
    (v) => (typeof v === "string" && v.length > 0) || (typeof v === "object" && v !== null && typeof (v as { doEmbed?: unknown }).doEmbed === "function"),
    "expected an AI SDK embedding model (e.g. openai.embedding(...)) or a gateway model id",
  ),
  /**
   * Stored with every trained model, so it is never applied to another
   * model's vectors. Defaults to the model's id ("text-embedding-3-small"),
   * the name OpenAIEmbedder stores too: the same vectors, the same name.
   */
  modelName: z.string().min(1).optional(),
  /** Texts per request; capped by the model's own maxEmbeddingsPerCall. */
  batchSize: z.number().int().min(1).max(4096).default(256),
  /** Retries per request for rate limits, 5xx, timeouts and dropped connections (the AI SDK's own retries are off). */
  maxRetries: z.number().int().min(0).max(20).default(4),
  minRetryDelayMs: z.number().int().min(0).default(500),
  maxRetryDelayMs: z.number().int().min(0).default(30_000),
  timeoutMs: z.number().int().positive().default(60_000),
  /**
   * Provider options per call, or per kind of text: models that embed queries
   * and documents differently take it here, e.g. Cohere's
   * `(kind) => ({ cohere: { inputType: kind === "query" ? "search_query" : "search_document" } })`.
   */
  providerOptions: z
    .union([
      z.custom<ProviderOptions>((v) => typeof v === "object" && v !== null),
      z.custom<(kind: "query" | "document") => ProviderOptions>((v) => typeof v === "function"),
    ])
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type AiSdkEmbedderOptions = z.input<typeof aiSdkEmbedderOptionsSchema>;

/**
 * The deep-memory `Embedder` over any AI SDK embedding model, through
 * `embedMany`. One batch at a time, each retried with backoff that honours
 * the provider's Retry-After, exactly as OpenAIEmbedder does.
 */
export class AiSdkEmbedder implements Embedder {
  readonly model: string;
  private readonly options: z.output<typeof aiSdkEmbedderOptionsSchema>;
  private readonly provider: string;

  constructor(options: AiSdkEmbedderOptions) {
    this.options = parseOptions(aiSdkEmbedderOptionsSchema, options, "AiSdkEmbedder");
    this.model = this.options.modelName ?? modelIdOf(this.options.model);
    this.provider = providerOf(this.options.model);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const size = await this.batchSize();
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += size) {
      const batch = texts.slice(start, start + size);
      const { maxRetries, minRetryDelayMs, maxRetryDelayMs } = this.options;
      vectors.push(
        ...(await withRetry(() => this.request(batch, options), {
          retries: maxRetries,
          minDelayMs: minRetryDelayMs,
          maxDelayMs: Math.max(minRetryDelayMs, maxRetryDelayMs),
          ...(options.signal ? { signal: options.signal } : {}),
        })),
      );
    }
    return vectors;
  }

  private async request(batch: string[], options: EmbedOptions): Promise<Float32Array[]> {
    const { timeoutMs, providerOptions, headers } = this.options;
    const call = withTimeout(options.signal, timeoutMs);
    const perKind = typeof providerOptions === "function" ? providerOptions(options.kind ?? "document") : providerOptions;
    let embeddings: number[][];
    try {
      ({ embeddings } = await embedMany({
        model: this.options.model,
        // OpenAI-style APIs reject an empty input with a 400 for the whole batch; a space embeds as "no content".
        values: batch.map((text) => (text.length === 0 ? " " : text)),
        maxRetries: 0,
        maxParallelCalls: 1,
        abortSignal: call.signal,
        ...(perKind ? { providerOptions: perKind } : {}),
        ...(headers ? { headers } : {}),
      }));
    } catch (error) {
      throw mapAiSdkError(error, {
        provider: this.provider,
        operation: "embedding request",
        outputErrors: "upstream",
        ...(call.timedOut() ? { timedOutAfterMs: timeoutMs } : {}),
      });
    }
    const dims = embeddings[0]?.length ?? 0;
    if (embeddings.length !== batch.length || dims === 0 || embeddings.some((v) => v.length !== dims)) {
      throw new UpstreamError(
        this.provider,
        `${this.provider} returned ${embeddings.length} embeddings of lengths ${[...new Set(embeddings.map((v) => v.length))].join("/")} for ${batch.length} inputs`,
        { retryable: false },
      );
    }
    return embeddings.map((v) => Float32Array.from(v));
  }

  private async batchSize(): Promise<number> {
    const model = this.options.model;
    if (typeof model === "string") return this.options.batchSize;
    const limit = await model.maxEmbeddingsPerCall;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new ValidationError(`The embedding model reports maxEmbeddingsPerCall ${limit}`, [{ path: "model", message: "bad maxEmbeddingsPerCall" }]);
    }
    return Math.min(this.options.batchSize, limit ?? Infinity);
  }
}
