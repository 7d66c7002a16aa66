import { AutoModel, AutoTokenizer, type PreTrainedModel, type PreTrainedTokenizer, type Tensor } from "@huggingface/transformers";
import { ValidationError } from "@zip/deep-memory";
import { encodeBatch, specialTokenLayout, type SpecialTokenLayout } from "./encoding.js";
import { modelFilesNotFound, type ModelSource } from "./model-files.js";
import { poolAndNormalize, type Pooling } from "./pooling.js";

/** Everything needed to load and run the model: plain data, so it can be posted to a worker thread. */
export interface EmbeddingModelSettings {
  source: ModelSource;
  /** The model's name, for error messages. */
  name: string;
  pooling: Pooling;
  /** Word pieces kept per text, before the tokenizer's own limit; undefined: the tokenizer's (or 512). */
  maxLength: number | undefined;
  cacheDir: string | undefined;
  threads: number | undefined;
}

/** A loaded tokenizer + ONNX session that turns one batch of texts into pooled, L2-normalised vectors. */
export interface EmbeddingModel {
  embedBatch(texts: string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  maxLength: number;
  layout: SpecialTokenLayout;
}

/** Loads the tokenizer and weights (the slow part: a few hundred ms from disk). */
export async function loadEmbeddingModel(settings: EmbeddingModelSettings): Promise<EmbeddingModel> {
  const loaded = await load(settings);
  return {
    embedBatch: (texts) => embedBatch(loaded, settings, texts),
    dispose: async () => {
      await loaded.model.dispose();
    },
  };
}

async function embedBatch({ tokenizer, model, maxLength, layout }: Loaded, settings: EmbeddingModelSettings, texts: string[]): Promise<Float32Array[]> {
  const inputs = encodeBatch(tokenizer, texts, maxLength, layout);
  const outputs = (await model(inputs)) as Record<string, Tensor | undefined>;
  const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
  if (hidden === undefined) {
    throw new ValidationError(`Model ${settings.name} returned no token embeddings (outputs: ${Object.keys(outputs).join(", ")})`);
  }
  const [rows, sequence, dimensions] = hidden.dims as [number, number, number];
  return poolAndNormalize(
    { hidden: hidden.data as Float32Array, mask: inputs.attention_mask.data as BigInt64Array, batch: rows, sequence, dimensions },
    settings.pooling,
  );
}

async function load(settings: EmbeddingModelSettings): Promise<Loaded> {
  const { source } = settings;
  const where = source.kind === "local" ? source.dir : source.id;
  const common = {
    local_files_only: source.kind === "local",
    ...(settings.cacheDir === undefined ? {} : { cache_dir: settings.cacheDir }),
  };
  try {
    const tokenizer = await AutoTokenizer.from_pretrained(where, common);
    const model = await AutoModel.from_pretrained(where, {
      ...common,
      device: "cpu",
      dtype: source.dtype,
      ...(settings.threads === undefined ? {} : { session_options: { intraOpNumThreads: settings.threads } }),
    });
    // sentence-transformers truncates to its own max_seq_length, which is often below the tokenizer's (256 vs 512 for MiniLM).
    // Some tokenizers leave model_max_length at a huge placeholder; 512 is BERT's position limit.
    const declared = Number(tokenizer.model_max_length);
    const tokenizerMax = Number.isFinite(declared) && declared < 1e6 ? declared : undefined;
    const maxLength = Math.min(settings.maxLength ?? tokenizerMax ?? 512, tokenizerMax ?? Infinity);
    return { tokenizer, model, maxLength, layout: specialTokenLayout(tokenizer) };
  } catch (error) {
    if (source.kind === "hub") {
      const reason = error instanceof Error ? error.message : String(error);
      throw modelFilesNotFound({ model: source.id }, source.searched, `downloading ${source.id} (${source.dtype} weights) failed: ${reason}`, error);
    }
    throw new ValidationError(
      `Could not load the model in ${source.dir}: ${error instanceof Error ? error.message : String(error)}`,
      [{ path: "modelDir", message: "model files present but unreadable" }],
      { cause: error },
    );
  }
}
