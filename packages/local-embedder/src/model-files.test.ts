import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeepMemoryError } from "@zip/deep-memory";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LocalEmbedder } from "./local-embedder.js";
import {
  candidateModelDirs,
  inspectModelDir,
  knownModelDefaults,
  locateModel,
  ModelFilesNotFoundError,
  readSentenceTransformersConfig,
} from "./model-files.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "local-embedder-"));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function writeModel(dir: string, onnxFiles: string[]): void {
  mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) writeFileSync(join(dir, file), "{}");
  for (const file of onnxFiles) writeFileSync(join(dir, "onnx", file), "");
}

describe("when no model files can be found", () => {
  it("throws a ModelFilesNotFoundError that says where the files go and that OpenAI works instead", () => {
    vi.stubEnv("DEEP_MEMORY_MODEL_DIR", root);
    let thrown: unknown;
    try {
      new LocalEmbedder({ model: "example/no-such-model", allowRemoteModels: false });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ModelFilesNotFoundError);
    const error = thrown as ModelFilesNotFoundError;
    expect(DeepMemoryError.isInstance(error)).toBe(true);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toContain("DEEP_MEMORY_MODEL_DIR");
    expect(error.message).toContain(`"no-such-model"`);
    for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model_quantized.onnx", "onnx/model.onnx"]) {
      expect(error.message).toContain(file);
    }
    expect(error.message).toContain("OPENAI_API_KEY");
    expect(error.message).toContain("allowRemoteModels: false");
    expect(error.searched[0]).toBe(`${join(root, "no-such-model")} (does not exist)`);
  });

  it("names the missing files of an explicit but incomplete modelDir", () => {
    writeModel(root, []);
    expect(() => new LocalEmbedder({ modelDir: root })).toThrow(/lacks onnx\/model_quantized\.onnx or onnx\/model\.onnx/);
  });

  it("falls back to the hub only when allowed and no folder was given", () => {
    const source = locateModel({ model: "example/no-such-model", dtype: "auto", allowRemoteModels: true, env: {}, cwd: root });
    expect(source).toMatchObject({ kind: "hub", id: "example/no-such-model", dtype: "q8" });
    expect(() => locateModel({ model: "x/y", modelDir: root, dtype: "auto", allowRemoteModels: true, env: {} })).toThrow(
      ModelFilesNotFoundError,
    );
  });
});

describe("finding model folders", () => {
  it("looks in $DEEP_MEMORY_MODEL_DIR/<name>, then shared/models/<name> in the working directory and above", () => {
    const dirs = candidateModelDirs({ model: "Xenova/all-MiniLM-L6-v2", env: { DEEP_MEMORY_MODEL_DIR: "/models" }, cwd: "/repo/pkg" });
    expect(dirs).toEqual([
      "/models/all-MiniLM-L6-v2",
      "/models/Xenova/all-MiniLM-L6-v2",
      "/repo/pkg/shared/models/all-MiniLM-L6-v2",
      "/repo/shared/models/all-MiniLM-L6-v2",
      "/shared/models/all-MiniLM-L6-v2",
    ]);
  });

  it("accepts $DEEP_MEMORY_MODEL_DIR naming the model's own folder", () => {
    const dirs = candidateModelDirs({ model: "Xenova/all-MiniLM-L6-v2", env: { DEEP_MEMORY_MODEL_DIR: "/m/all-MiniLM-L6-v2" }, cwd: "/" });
    expect(dirs).toContain("/m/all-MiniLM-L6-v2");
  });

  it("loads from the first complete folder", () => {
    const dir = join(root, "all-MiniLM-L6-v2");
    writeModel(dir, ["model.onnx"]);
    expect(locateModel({ model: "Xenova/all-MiniLM-L6-v2", dtype: "auto", allowRemoteModels: false, env: { DEEP_MEMORY_MODEL_DIR: root } })).toEqual({
      kind: "local",
      dir,
      dtype: "fp32",
    });
  });

  it("prefers int8 weights under dtype auto, and honours an explicit dtype", () => {
    writeModel(root, ["model.onnx", "model_quantized.onnx"]);
    expect(inspectModelDir(root, "auto")).toEqual({ ok: true, dtype: "q8" });
    expect(inspectModelDir(root, "fp32")).toEqual({ ok: true, dtype: "fp32" });
    expect(inspectModelDir(root, "fp16")).toEqual({ ok: false, reason: "lacks onnx/model_fp16.onnx" });
  });
});

describe("model settings", () => {
  it("reads pooling, max length and prompts from sentence-transformers files", () => {
    mkdirSync(join(root, "1_Pooling"));
    writeFileSync(join(root, "1_Pooling", "config.json"), JSON.stringify({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }));
    writeFileSync(join(root, "sentence_bert_config.json"), JSON.stringify({ max_seq_length: 128 }));
    writeFileSync(join(root, "config_sentence_transformers.json"), JSON.stringify({ prompts: { query: "query: ", document: "passage: " } }));
    expect(readSentenceTransformersConfig(root)).toEqual({ pooling: "cls", maxLength: 128, queryPrefix: "query: ", documentPrefix: "passage: " });
  });

  it("knows the published settings of MiniLM and bge", () => {
    expect(knownModelDefaults("Xenova/all-MiniLM-L6-v2")).toEqual({ pooling: "mean", maxLength: 256 });
    expect(knownModelDefaults("Xenova/bge-small-en-v1.5")).toEqual({
      pooling: "cls",
      maxLength: 512,
      queryPrefix: "Represent this sentence for searching relevant passages: ",
    });
  });

  it("rejects invalid options with a ValidationError naming the field", () => {
    expect(() => new LocalEmbedder({ batchSize: 0, modelDir: root })).toThrow(/batchSize/);
  });
});
