/**
 * Synthetic knowledge bases for tests: chunk embeddings are random unit
 * vectors, and a question about chunk c embeds to R·v(c) + noise for a hidden
 * linear map R. Plain search therefore ranks poorly and a learned query
 * transform can recover R: the "right transform is known" setting.
 */
import type { InMemoryDocument } from "../adapters/vector-store/in-memory-vector-store.js";
import type { Embedder, EmbedOptions } from "../ports/embedder.js";
import type { GenerateQuestionsInput, QuestionGenerator } from "../ports/question-generator.js";
import { fnv1a, mulberry32 } from "../shared/random.js";

export { mulberry32 };


export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function randomUnit(dims: number, rand: () => number): Float32Array {
  const v = new Float32Array(dims);
  let n = 0;
  for (let i = 0; i < dims; i++) {
    v[i] = gaussian(rand);
    n += v[i]! * v[i]!;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dims; i++) v[i] = v[i]! / n;
  return v;
}

/** `count` deterministic unit vectors (uniform coordinates, normalised), so a failing store test reproduces. */
export function randomVectors(count: number, seed: number, dims: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: dims }, () => rand() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** Cosine similarity, for the order a vector store's search should return. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export interface SyntheticCorpus {
  documents: InMemoryDocument[];
  dims: number;
  /** Embedder that knows the hidden map for questions written by `questionFor`. */
  embedder: SyntheticEmbedder;
  /** The question text the synthetic generator writes for chunk `chunkId`, variant `k`. */
  readonly questionFor: (chunkId: string, k: number) => string;
}

const questionPattern = /^What does (\S+) say about aspect (\d+)\?$/;

export function syntheticCorpus(options: { chunks: number; dims?: number; seed?: number; noise?: number; mix?: number; userId?: string }): SyntheticCorpus {
  const dims = options.dims ?? 32;
  const rand = mulberry32(options.seed ?? 7);
  const documents: InMemoryDocument[] = [];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < options.chunks; i++) {
    const id = `chunk-${String(i).padStart(4, "0")}`;
    const embedding = randomUnit(dims, rand);
    vectors.set(id, embedding);
    documents.push({ id, text: `Chunk ${i}: notes on strategy ${i} and the ticker T${i}.`, embedding, ...(options.userId ? { userId: options.userId } : {}) });
  }
  // Hidden map: a random matrix mixed with the identity, strong enough that plain search misses.
  const mix = options.mix ?? 0.85;
  const hidden = new Float32Array(dims * dims);
  for (let r = 0; r < dims; r++) {
    for (let c = 0; c < dims; c++) hidden[r * dims + c] = (r === c ? 1 - mix : 0) + (mix * gaussian(rand)) / Math.sqrt(dims);
  }
  const embedder = new SyntheticEmbedder(dims, vectors, hidden, options.noise ?? 0.15, options.seed ?? 7);
  return { documents, dims, embedder, questionFor: (chunkId, k) => `What does ${chunkId} say about aspect ${k}?` };
}

export class SyntheticEmbedder implements Embedder {
  readonly model = "synthetic-embedder";
  calls = 0;
  constructor(
    readonly dims: number,
    private readonly chunkVectors: Map<string, Float32Array>,
    private readonly hidden: Float32Array,
    private readonly noise: number,
    private readonly seed: number,
  ) {}

  async embed(texts: string[], _options?: EmbedOptions): Promise<Float32Array[]> {
    this.calls++;
    return texts.map((text) => this.embedOne(text));
  }

  private embedOne(text: string): Float32Array {
    const match = questionPattern.exec(text);
    const rand = mulberry32(fnv1a(text) ^ this.seed);
    if (!match) return randomUnit(this.dims, rand);
    const base = this.chunkVectors.get(match[1]!);
    if (!base) return randomUnit(this.dims, rand);
    const out = new Float32Array(this.dims);
    for (let r = 0; r < this.dims; r++) {
      let s = 0;
      for (let c = 0; c < this.dims; c++) s += this.hidden[r * this.dims + c]! * base[c]!;
      out[r] = s + this.noise * gaussian(rand) / Math.sqrt(this.dims);
    }
    let n = 0;
    for (const x of out) n += x * x;
    n = Math.sqrt(n);
    return out.map((x) => x / n);
  }
}


export type ScriptedReply = string[] | Error | ((input: GenerateQuestionsInput) => Promise<string[]> | string[]);

/**
 * A question generator for tests: by default writes `count` synthetic questions
 * per chunk; `script(chunkId, call)` can return errors, odd output or a
 * never-settling promise (to simulate a crash mid-call).
 */
export class ScriptedGenerator implements QuestionGenerator {
  readonly model = "scripted-generator";
  readonly calls: { chunkId: string; count: number; model: string | undefined }[] = [];
  private readonly perChunk = new Map<string, number>();

  constructor(
    private readonly questionFor: (chunkId: string, k: number) => string,
    private readonly script?: (chunkId: string, call: number, input: GenerateQuestionsInput) => ScriptedReply | undefined,
  ) {}

  async generate(input: GenerateQuestionsInput): Promise<string[]> {
    const call = (this.perChunk.get(input.chunk.id) ?? 0) + 1;
    this.perChunk.set(input.chunk.id, call);
    this.calls.push({ chunkId: input.chunk.id, count: input.count, model: input.model });
    const reply = this.script?.(input.chunk.id, call, input);
    if (reply instanceof Error) throw reply;
    if (typeof reply === "function") return reply(input);
    if (reply) return reply;
    return Array.from({ length: input.count }, (_, k) => this.questionFor(input.chunk.id, k));
  }

  callsFor(chunkId: string): number {
    return this.perChunk.get(chunkId) ?? 0;
  }
}

/** A promise that settles only when the signal aborts: a call stuck at the moment of a crash. */
export function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })), { once: true });
  });
}
