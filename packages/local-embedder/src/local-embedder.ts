import { AbortedError, ValidationError, type EmbedOptions, type Embedder } from "@zip/deep-memory";
import { parseOrThrow } from "@zip/deep-memory/provider-utils";
import { z } from "zod";
import { loadEmbeddingModel, type EmbeddingModel, type EmbeddingModelSettings } from "./embedding-model.js";
import { startEmbeddingThread, type EmbeddingThread } from "./embed-thread.js";
import { knownModelDefaults, locateModel, modelFolderName, readSentenceTransformersConfig, type ModelSource } from "./model-files.js";
import type { Pooling } from "./pooling.js";

export const DEFAULT_LOCAL_MODEL = "Xenova/all-MiniLM-L6-v2";

export const localEmbedderOptionsSchema = z
  .object({
    /** Hugging Face hub id of an ONNX export; its last segment is also the folder name looked for on disk. */
    model: z.string().min(1).default(DEFAULT_LOCAL_MODEL),
    /** A folder holding the model files; when given, the only place looked at. */
    modelDir: z.string().min(1).optional(),
    /** Stored with trained deep-memory models; defaults to the model's folder name, e.g. "all-MiniLM-L6-v2". */
    name: z.string().min(1).optional(),
    /** Which ONNX weights to run. "auto": int8 (onnx/model_quantized.onnx) when present, else fp32 (onnx/model.onnx). */
    dtype: z.enum(["auto", "fp32", "fp16", "q8", "int8", "uint8", "q4"]).default("auto"),
    batchSize: z.int().min(1).max(4096).default(32),
    /** Word pieces kept per text; defaults to the model's sentence-transformers setting (256 for all-MiniLM-L6-v2). */
    maxLength: z.int().min(1).max(8192).optional(),
    /** Defaults to the model's sentence-transformers setting: mean for MiniLM, cls for bge. */
    pooling: z.enum(["mean", "cls"]).optional(),
    /** Prepended to texts embedded with `kind: "query"` (bge-*-en-v1.5 defaults to its retrieval instruction). */
    queryPrefix: z.string().optional(),
    /** Prepended to texts embedded with `kind: "document"` or no kind. */
    documentPrefix: z.string().optional(),
    /** Download from the Hugging Face hub when no local folder has the model. */
    allowRemoteModels: z.boolean().default(true),
    /** Where hub downloads are cached; transformers.js's default otherwise. */
    cacheDir: z.string().min(1).optional(),
    /** ONNX Runtime intra-op threads; ONNX Runtime's default (all cores) otherwise. */
    threads: z.int().min(1).max(256).optional(),
    /**
     * Where the model runs. "worker" (default): on a worker thread, so a server's event loop stays free while it
     * embeds (ONNX Runtime runs a batch synchronously); falls back to "main" where worker_threads is missing.
     */
    thread: z.enum(["worker", "main"]).default("worker"),
  })
  .strict();

export type LocalEmbedderOptions = z.input<typeof localEmbedderOptionsSchema>;

/**
 * An Embedder that runs a sentence-transformers model on the CPU, in this
 * process, through ONNX Runtime. Vectors are pooled and L2-normalised the way
 * sentence-transformers does, so they match a Python host's vectors for the same model.
 */
export class LocalEmbedder implements Embedder {
  readonly model: string;
  /** Where the weights load from, decided when the embedder is made. */
  readonly source: ModelSource;
  readonly pooling: Pooling;
  readonly queryPrefix: string;
  readonly documentPrefix: string;
  private readonly options: z.output<typeof localEmbedderOptionsSchema>;
  private readonly configuredMaxLength: number | undefined;
  private loading: Promise<EmbeddingModel> | undefined;

  /** Throws ModelFilesNotFoundError at once when no folder has the model and the hub is off. */
  constructor(options: LocalEmbedderOptions = {}) {
    this.options = parseOrThrow(localEmbedderOptionsSchema, options, "LocalEmbedder options");
    const { model, modelDir } = this.options;
    // A bare folder without a model id names the model after the folder.
    const modelId = options.model === undefined && modelDir !== undefined ? modelFolderName(modelDir) : model;
    this.source = locateModel({
      model: modelId,
      modelDir,
      dtype: this.options.dtype,
      allowRemoteModels: this.options.allowRemoteModels,
    });
    this.model = this.options.name ?? modelFolderName(modelId);
    const fromFiles = this.source.kind === "local" ? readSentenceTransformersConfig(this.source.dir) : {};
    const defaults = { ...knownModelDefaults(modelId), ...fromFiles };
    this.pooling = this.options.pooling ?? defaults.pooling ?? "mean";
    this.queryPrefix = this.options.queryPrefix ?? defaults.queryPrefix ?? "";
    this.documentPrefix = this.options.documentPrefix ?? defaults.documentPrefix ?? "";
    this.configuredMaxLength = this.options.maxLength ?? defaults.maxLength;
  }

  /** Loads tokenizer and weights once; embed() calls it, so calling it yourself only moves the wait earlier. */
  load(): Promise<void> {
    return this.loaded().then(() => undefined);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
      throw new ValidationError("embed() takes an array of strings", [{ path: "texts", message: "expected string[]" }]);
    }
    if (texts.length === 0) return [];
    throwIfAborted(options.signal);
    const model = await this.loaded();
    const prefix = options.kind === "query" ? this.queryPrefix : this.documentPrefix;
    // Longest first, like sentence-transformers: similar lengths share a batch, so less padding is computed.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.options.batchSize) {
      throwIfAborted(options.signal);
      const indexes = order.slice(start, start + this.options.batchSize);
      const pooled = await model.embedBatch(indexes.map((i) => prefix + texts[i]!));
      indexes.forEach((textIndex, row) => {
        vectors[textIndex] = pooled[row]!;
      });
    }
    return vectors;
  }

  /** The worker_threads threadId the model runs on once loaded: 0 for this thread (thread: "main", or no worker_threads). */
  get threadId(): number {
    return this.thread?.threadId ?? 0;
  }

  /** Frees the ONNX Runtime session (and ends its thread); a later embed() loads the model again. */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    this.thread = undefined;
    if (loading === undefined) return;
    const loaded = await loading.catch(() => undefined);
    await loaded?.dispose();
  }

  private thread: EmbeddingThread | undefined;

  private loaded(): Promise<EmbeddingModel> {
    // A thread that died (killed, out of memory) is replaced on the next call.
    if (this.thread?.dead) this.loading = undefined;
    this.loading ??= this.loadOnce().catch((error: unknown) => {
      // Let a later call try again (e.g. after the files were put in place or the network came back).
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<EmbeddingModel> {
    const settings: EmbeddingModelSettings = {
      source: this.source,
      name: this.model,
      pooling: this.pooling,
      maxLength: this.configuredMaxLength,
      cacheDir: this.options.cacheDir,
      threads: this.options.threads,
    };
    const thread = this.options.thread === "worker" ? startEmbeddingThread(settings) : null;
    if (!thread) return loadEmbeddingModel(settings);
    this.thread = thread;
    // Load now, so a missing or broken model fails here, as on the main thread, not in the first batch.
    try {
      await thread.embedBatch([""]);
      return thread;
    } catch (error) {
      this.thread = undefined;
      await thread.dispose();
      // A thread that never started (its file missing from a bundle, an unusual loader) costs time, never the result.
      if (thread.threadId === 0) return loadEmbeddingModel(settings);
      throw error;
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
