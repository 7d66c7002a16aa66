import { AbortedError, ValidationError } from "@zip/deep-memory";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { threadId } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { encodeBatch, specialTokenLayout } from "./encoding.js";
import { DEFAULT_LOCAL_MODEL, LocalEmbedder } from "./local-embedder.js";
import { candidateModelDirs, inspectModelDir } from "./model-files.js";

// These tests run the real model. Without its files they are skipped (never
// faked): see docs/local-models.md for how to get them.
const modelDir = candidateModelDirs({ model: DEFAULT_LOCAL_MODEL }).find((dir) => inspectModelDir(dir, "auto").ok);
if (modelDir === undefined) {
  console.warn(
    "[local-embedder] SKIPPING model tests: no all-MiniLM-L6-v2 files found. Put config.json, tokenizer.json, " +
      "tokenizer_config.json and onnx/model_quantized.onnx in $DEEP_MEMORY_MODEL_DIR/all-MiniLM-L6-v2 " +
      "(or ../shared/models/all-MiniLM-L6-v2); docs/local-models.md tells how to get them.",
  );
}

const execFileAsync = promisify(execFile);
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

describe.skipIf(modelDir === undefined)("LocalEmbedder with all-MiniLM-L6-v2", () => {
  const embedder = new LocalEmbedder({ modelDir: modelDir!, batchSize: 32 });
  // fp32 matches sentence-transformers to ~1e-7; the int8 weights drift by up to ~0.006 in cosine.
  const tolerance = embedder.source.dtype === "fp32" ? 1e-4 : 0.01;
  afterAll(() => embedder.dispose());

  it("names the model and gives one 384-dimensional unit vector per text, in order", async () => {
    expect(embedder.model).toBe("all-MiniLM-L6-v2");
    const texts = ["A man is eating food.", "The cat sits outside", "", "A man is eating a piece of bread."];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(384);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    const [first] = await embedder.embed([texts[0]!]);
    expect(cosine(first!, vectors[0]!)).toBeGreaterThan(0.99999);
  });

  it("reproduces sentence-transformers' cosine similarities", async () => {
    // Reference values: sentence-transformers 6.2 (torch, fp32) with sentence-transformers/all-MiniLM-L6-v2.
    const reference: [string, string, number][] = [
      ["A man is eating food.", "A man is eating a piece of bread.", 0.7553],
      ["The new movie is awesome", "The new movie is so great", 0.8939],
      ["The new movie is awesome", "The cat sits outside", -0.0247],
      ["What is the capital of France?", "Paris is the capital and most populous city of France.", 0.7546],
      ["A man is riding a horse.", "A man is riding a white horse on an enclosed ground.", 0.7369],
    ];
    const vectors = await embedder.embed(reference.flatMap(([a, b]) => [a, b]));
    reference.forEach(([, , expected], i) => {
      expect(Math.abs(cosine(vectors[2 * i]!, vectors[2 * i + 1]!) - expected)).toBeLessThan(tolerance + 5e-5);
    });
    // A paraphrase is closer than an unrelated sentence.
    expect(cosine(vectors[2]!, vectors[3]!)).toBeGreaterThan(cosine(vectors[4]!, vectors[5]!) + 0.5);
  });

  it("gives the same vectors batched as one by one", async () => {
    const texts = ["Short.", "A somewhat longer sentence about the weather in spring.", "Tickers like $AAPL and MSFT moved 3%.", "x"];
    const small = new LocalEmbedder({ modelDir: modelDir!, batchSize: 2 });
    try {
      const batched = await small.embed(texts);
      for (const [i, text] of texts.entries()) {
        const [alone] = await embedder.embed([text]);
        expect(cosine(alone!, batched[i]!)).toBeGreaterThan(0.99999);
      }
    } finally {
      await small.dispose();
    }
  });

  it("prepends the query prefix to queries only", async () => {
    const prefixed = new LocalEmbedder({ modelDir: modelDir!, queryPrefix: "query: ", documentPrefix: "passage: " });
    try {
      const [asQuery] = await prefixed.embed(["how do cats sleep"], { kind: "query" });
      const [asDocument] = await prefixed.embed(["how do cats sleep"], { kind: "document" });
      const [manualQuery, manualDocument] = await embedder.embed(["query: how do cats sleep", "passage: how do cats sleep"]);
      expect(cosine(asQuery!, manualQuery!)).toBeGreaterThan(0.99999);
      expect(cosine(asDocument!, manualDocument!)).toBeGreaterThan(0.99999);
      expect(cosine(asQuery!, asDocument!)).toBeLessThan(0.999);
    } finally {
      await prefixed.dispose();
    }
  });

  it("truncates long texts to 256 word pieces, keeping [SEP] as sentence-transformers does", async () => {
    const { AutoTokenizer } = await import("@huggingface/transformers");
    const tokenizer = await AutoTokenizer.from_pretrained(modelDir!, { local_files_only: true });
    const long = "Deep memory learns a transform of query embeddings. ".repeat(60);
    const encoded = encodeBatch(tokenizer, [long, "short"], 256, specialTokenLayout(tokenizer));
    expect(encoded.input_ids.dims).toEqual([2, 256]);
    const ids = Array.from(encoded.input_ids.data as BigInt64Array, Number);
    expect([ids[0], ids[255]]).toEqual([101, 102]); // [CLS] … [SEP]
    // Text past the limit cannot change the vector.
    const [cut, longer] = await embedder.embed([long, `${long} Completely different ending about volcanoes.`]);
    expect(cosine(cut!, longer!)).toBeGreaterThan(0.99999);
  });

  it("returns nothing for nothing and honours an aborted signal", async () => {
    expect(await embedder.embed([])).toEqual([]);
    await expect(embedder.embed(["text"], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});

describe.skipIf(modelDir === undefined)("LocalEmbedder's embedding thread", () => {
  it("runs the model on a worker thread by default, with the same vectors as on the main thread", async () => {
    const texts = ["Stop-loss orders cap the downside.", "A man is eating food.", ""];
    const inWorker = new LocalEmbedder({ modelDir: modelDir! });
    const onMain = new LocalEmbedder({ modelDir: modelDir!, thread: "main" });
    try {
      const fromWorker = await inWorker.embed(texts);
      const fromMain = await onMain.embed(texts);
      expect(inWorker.threadId).toBeGreaterThan(0);
      expect(inWorker.threadId).not.toBe(threadId);
      expect(onMain.threadId).toBe(0);
      fromWorker.forEach((vector, i) => expect(Array.from(vector)).toEqual(Array.from(fromMain[i]!)));
    } finally {
      await inWorker.dispose();
      await onMain.dispose();
    }
  });

  it("keeps the event loop free while it embeds", async () => {
    const embedder = new LocalEmbedder({ modelDir: modelDir!, batchSize: 64 });
    try {
      await embedder.load();
      // Timers keep firing during a long embed: the batches run elsewhere. On the main thread this loop
      // gets no tick at all until a batch ends (ONNX Runtime runs it synchronously).
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const texts = Array.from({ length: 256 }, (_, i) => `Sentence number ${i} about options, futures and the volatility of index funds.`);
      const batches = embedder.embed(texts);
      let ticksDuringEmbed = 0;
      await Promise.race([batches, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      ticksDuringEmbed = ticks;
      clearInterval(timer);
      expect(await batches).toHaveLength(256);
      expect(ticksDuringEmbed).toBeGreaterThan(10);
    } finally {
      await embedder.dispose();
    }
  });

  it("reports a model that fails to load on its thread as the same typed error", async () => {
    await withTempDir(async (dir) => {
      // Model files that are present but unreadable: the load fails on the thread, the error arrives typed.
      for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) await copyFile(join(modelDir!, file), join(dir, file));
      await mkdir(join(dir, "onnx"));
      await writeFile(join(dir, "onnx", "model_quantized.onnx"), "not an onnx file");
      const broken = new LocalEmbedder({ modelDir: dir });
      const error = await broken.embed(["x"]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/Could not load the model/);
      await broken.dispose();
    });
  });

  it("does not keep a finished script alive", async () => {
    await withTempDir(async (dir) => {
      // A script that embeds and never disposes still exits: the idle thread is unref'd.
      const file = join(dir, "script.mjs");
      await writeFile(
        file,
        `import { LocalEmbedder } from ${JSON.stringify(fileURLToPath(new URL("./index.ts", import.meta.url)))};
         const embedder = new LocalEmbedder({ modelDir: ${JSON.stringify(modelDir)} });
         const [vector] = await embedder.embed(["hello"]);
         console.log(vector.length, embedder.threadId > 0);`,
      );
      const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "--conditions=@zip/source", file], { timeout: 60_000 });
      expect(stdout.trim()).toBe("384 true");
    });
  });

  it("still runs on its thread under node --input-type=module, where the thread evaluates its bootstrap as ESM", async () => {
    // The thread inherits --input-type=module, so a bootstrap that calls require() dies at once and the
    // model quietly falls back to this thread: the same script must still report a thread of its own.
    const script = `import { LocalEmbedder } from ${JSON.stringify(fileURLToPath(new URL("./index.ts", import.meta.url)))};
      const embedder = new LocalEmbedder({ modelDir: ${JSON.stringify(modelDir)} });
      const [vector] = await embedder.embed(["hello"]);
      console.log(vector.length, embedder.threadId > 0);`;
    const args = ["--input-type=module", "--import", "tsx", "--conditions=@zip/source", "-e", script];
    const { stdout } = await execFileAsync(process.execPath, args, { timeout: 60_000 });
    expect(stdout.trim()).toBe("384 true");
  });
});

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "local-embedder-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
