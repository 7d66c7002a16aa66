import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { AbortedError, DeepMemoryError, UpstreamError, ValidationError, type EmbedOptions, type Embedder } from "@zip/deep-memory";

export interface LangChainEmbedderOptions {
  /** The LangChain embeddings your vector store indexes with (OpenAIEmbeddings, CohereEmbeddings...). */
  embeddings: EmbeddingsInterface;
  /**
   * The embedding model's name, stored with every trained model so it is never
   * applied to another model's vectors. Defaults to the embeddings' own
   * `model` or `modelName` field where it has one.
   */
  model?: string;
  /**
   * The model embeds queries and documents alike (OpenAI, most
   * sentence-transformers): embed training questions in batches through
   * `embedDocuments` instead of one `embedQuery` call each. Leave it off for
   * models with a query instruction or input type (Cohere, Voyage, E5, BGE).
   */
  queriesAsDocuments?: boolean;
  /** `embedQuery` calls in flight at once when embedding many questions. */
  queryConcurrency?: number;
}

/**
 * The deep-memory `Embedder` port over LangChain embeddings, so the trainer
 * embeds training questions exactly as your retriever embeds queries
 * (`embedQuery`) and chunks as your store did (`embedDocuments`). LangChain's
 * own caller retries provider errors; what still fails is reported as
 * `UpstreamError` (RATE_LIMITED for a 429).
 */
export class LangChainEmbedder implements Embedder {
  readonly model: string;
  private readonly embeddings: EmbeddingsInterface;
  private readonly queriesAsDocuments: boolean;
  private readonly queryConcurrency: number;

  constructor(options: LangChainEmbedderOptions) {
    if (!options?.embeddings || typeof options.embeddings.embedDocuments !== "function") {
      throw new ValidationError("LangChainEmbedder needs LangChain embeddings", [{ path: "embeddings", message: "required" }]);
    }
    const named = options.embeddings as unknown as { model?: unknown; modelName?: unknown };
    const model = options.model ?? [named.model, named.modelName].find((m): m is string => typeof m === "string" && m.length > 0);
    if (!model) {
      throw new ValidationError(
        "LangChainEmbedder needs the embedding model's name (these embeddings have no `model` field): pass `model`, e.g. \"text-embedding-3-small\"",
        [{ path: "model", message: "required" }],
      );
    }
    const concurrency = options.queryConcurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ValidationError(`queryConcurrency must be a positive integer, got ${concurrency}`, [{ path: "queryConcurrency", message: ">= 1" }]);
    }
    this.model = model;
    this.embeddings = options.embeddings;
    this.queriesAsDocuments = options.queriesAsDocuments ?? false;
    this.queryConcurrency = concurrency;
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError();
    try {
      const vectors =
        options.kind === "query" && !this.queriesAsDocuments ? await this.eachQuery(texts, signal) : await this.embeddings.embedDocuments(texts);
      if (vectors.length !== texts.length) {
        throw new UpstreamError("langchain", `The embeddings returned ${vectors.length} vectors for ${texts.length} texts`, { retryable: false });
      }
      return vectors.map((v) => Float32Array.from(v));
    } catch (error) {
      throw toUpstream(error, this.model);
    }
  }

  private async eachQuery(texts: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    const out = new Array<number[]>(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        if (signal?.aborted) throw new AbortedError();
        const i = next++;
        out[i] = await this.embeddings.embedQuery(texts[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.queryConcurrency, texts.length) }, worker));
    return out;
  }
}

/** Provider SDKs put the HTTP status on `status` (OpenAI, Anthropic) or `statusCode`. */
function toUpstream(error: unknown, model: string): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  const e = error as { status?: unknown; statusCode?: unknown; message?: unknown; name?: unknown } | null;
  if (e?.name === "AbortError") return new AbortedError();
  const status = [e?.status, e?.statusCode].find((s): s is number => typeof s === "number");
  const message = typeof e?.message === "string" ? e.message : String(error);
  return new UpstreamError("langchain", `Embedding with ${model} failed${status ? ` (${status})` : ""}: ${message}`, {
    ...(status === undefined ? {} : { status }),
    // LangChain's caller already retried what it could.
    retryable: false,
    cause: error,
  });
}
