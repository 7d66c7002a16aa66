import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ValidationError, type DeepMemoryErrorOptions } from "@zip/deep-memory";
import type { Pooling } from "./pooling.js";

/** ONNX weight variants, named as transformers.js names them (and the file each one loads). */
export const onnxFileByDtype = {
  fp32: "model.onnx",
  fp16: "model_fp16.onnx",
  q8: "model_quantized.onnx",
  int8: "model_int8.onnx",
  uint8: "model_uint8.onnx",
  q4: "model_q4.onnx",
} as const;

export type OnnxDtype = keyof typeof onnxFileByDtype;

export const requiredModelFiles = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;

export const MODEL_DIR_ENV = "DEEP_MEMORY_MODEL_DIR";

/** Where the model is loaded from: a folder on disk, or the Hugging Face hub. */
export type ModelSource =
  | { kind: "local"; dir: string; dtype: OnnxDtype }
  /** `searched`: the local folders tried first, named again if the download fails. */
  | { kind: "hub"; id: string; dtype: OnnxDtype; searched: string[] };

export interface LocateInput {
  /** Hub id such as "Xenova/all-MiniLM-L6-v2"; its last segment names the local folder. */
  model: string;
  /** An explicit folder: the only place looked at when given. */
  modelDir?: string | undefined;
  dtype: OnnxDtype | "auto";
  allowRemoteModels: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Raised when no usable model files are on disk and the hub is off or unreachable. */
export class ModelFilesNotFoundError extends ValidationError {
  static override readonly brand: string = "ModelFilesNotFoundError";
  readonly searched: string[];
  constructor(message: string, searched: string[], options: DeepMemoryErrorOptions = {}) {
    super(message, [{ path: "modelDir", message: "no usable model files found" }], {
      ...options,
      details: { searched, ...options.details },
    });
    this.searched = searched;
  }
}

/** "Xenova/all-MiniLM-L6-v2" -> "all-MiniLM-L6-v2": the folder name looked for on disk. */
export function modelFolderName(model: string): string {
  return basename(model.replace(/[\\/]+$/, ""));
}

/**
 * Folders that may hold the model, in the order tried: an explicit `modelDir`
 * alone; otherwise `$DEEP_MEMORY_MODEL_DIR/<name>` (or the variable itself when
 * it names the model's own folder), then `shared/models/<name>` in the working
 * directory or any folder above it (a checkout keeps shared/ beside the repo).
 */
export function candidateModelDirs(input: Pick<LocateInput, "model" | "modelDir" | "env" | "cwd">): string[] {
  if (input.modelDir !== undefined) return [resolve(input.modelDir)];
  const name = modelFolderName(input.model);
  const env = input.env ?? process.env;
  const dirs: string[] = [];
  const fromEnv = env[MODEL_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    const root = resolve(fromEnv);
    dirs.push(join(root, name), join(root, input.model));
    if (basename(root) === name) dirs.push(root);
  }
  let dir = resolve(input.cwd ?? process.cwd());
  for (;;) {
    dirs.push(join(dir, "shared", "models", name));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return [...new Set(dirs)];
}

/** Why a folder cannot be used, or the dtype it would load. */
export function inspectModelDir(dir: string, dtype: OnnxDtype | "auto"): { ok: true; dtype: OnnxDtype } | { ok: false; reason: string } {
  if (!existsSync(dir)) return { ok: false, reason: "does not exist" };
  const missing: string[] = requiredModelFiles.filter((file) => !existsSync(join(dir, file)));
  // "auto" takes the int8 weights when present, as transformers.js does: 4x smaller, within ~0.005 in cosine.
  // Speed depends on the export (dynamically quantised ones run faster than fp32, weight-only ones do not).
  const wanted: OnnxDtype[] = dtype === "auto" ? ["q8", "fp32"] : [dtype];
  const found = wanted.find((d) => existsSync(join(dir, "onnx", onnxFileByDtype[d])));
  if (found === undefined) missing.push(wanted.map((d) => `onnx/${onnxFileByDtype[d]}`).join(" or "));
  if (missing.length > 0 || found === undefined) return { ok: false, reason: `lacks ${missing.join(", ")}` };
  return { ok: true, dtype: found };
}

/**
 * Picks where to load the model from: the first complete local folder, else
 * the hub when allowed. Throws ModelFilesNotFoundError when neither applies.
 */
export function locateModel(input: LocateInput): ModelSource {
  const searched: string[] = [];
  for (const dir of candidateModelDirs(input)) {
    const inspected = inspectModelDir(dir, input.dtype);
    if (inspected.ok) return { kind: "local", dir, dtype: inspected.dtype };
    searched.push(`${dir} (${inspected.reason})`);
  }
  if (input.allowRemoteModels && input.modelDir === undefined) {
    return { kind: "hub", id: input.model, dtype: input.dtype === "auto" ? "q8" : input.dtype, searched };
  }
  throw modelFilesNotFound(input, searched, input.modelDir === undefined ? "downloading is off (allowRemoteModels: false)" : undefined);
}

/** The error for "no model": says where the files go and what else works. */
export function modelFilesNotFound(
  input: Pick<LocateInput, "model" | "modelDir">,
  searched: string[],
  remoteNote: string | undefined,
  cause?: unknown,
): ModelFilesNotFoundError {
  const name = modelFolderName(input.model);
  const where =
    input.modelDir === undefined
      ? `Put them in a folder named "${name}" under the folder that ${MODEL_DIR_ENV} names (e.g. ${MODEL_DIR_ENV}=/opt/models with /opt/models/${name}/), or pass modelDir`
      : `Put them in ${resolve(input.modelDir)}`;
  const lines = [
    `No model files for the local embedder "${input.model}".`,
    `${where}; the folder must hold config.json, tokenizer.json, tokenizer_config.json and onnx/model_quantized.onnx (int8) or onnx/model.onnx (fp32), as the model's ONNX repository on the Hugging Face hub lays them out (docs/local-models.md tells how to get them).`,
    ...(remoteNote === undefined ? [] : [`Loading from the Hugging Face hub: ${remoteNote}.`]),
    `Looked in: ${searched.length === 0 ? "(nowhere)" : searched.join("; ")}.`,
    "Alternatively, embed with OpenAI: set OPENAI_API_KEY and use the OpenAI embedder instead.",
  ];
  return new ModelFilesNotFoundError(lines.join("\n"), searched, cause === undefined ? {} : { cause });
}

/** What a sentence-transformers export says about how to pool and truncate, when the folder has those files. */
export interface SentenceTransformersConfig {
  pooling?: Pooling;
  maxLength?: number;
  queryPrefix?: string;
  documentPrefix?: string;
}

export function readSentenceTransformersConfig(dir: string): SentenceTransformersConfig {
  const config: SentenceTransformersConfig = {};
  const bert = readJson(join(dir, "sentence_bert_config.json"));
  if (typeof bert?.max_seq_length === "number") config.maxLength = bert.max_seq_length;
  const pooling = readJson(join(dir, "1_Pooling", "config.json"));
  if (pooling?.pooling_mode_cls_token === true) config.pooling = "cls";
  else if (pooling?.pooling_mode_mean_tokens === true) config.pooling = "mean";
  const prompts = readJson(join(dir, "config_sentence_transformers.json"))?.prompts;
  if (typeof prompts === "object" && prompts !== null) {
    const { query, document, passage } = prompts as Record<string, unknown>;
    if (typeof query === "string" && query !== "") config.queryPrefix = query;
    const doc = document ?? passage;
    if (typeof doc === "string" && doc !== "") config.documentPrefix = doc;
  }
  return config;
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value: unknown = JSON.parse(readFileSync(path, "utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Published settings of the models this package is tested with, for hub
 * repositories (the Xenova/* ONNX exports) that carry no sentence-transformers files.
 */
export function knownModelDefaults(model: string): SentenceTransformersConfig {
  const name = modelFolderName(model).toLowerCase();
  if (/^all-minilm-l(6|12)-v2$/.test(name)) return { pooling: "mean", maxLength: 256 };
  if (/^bge-(small|base|large)-en-v1\.5$/.test(name)) {
    return { pooling: "cls", maxLength: 512, queryPrefix: "Represent this sentence for searching relevant passages: " };
  }
  return {};
}
