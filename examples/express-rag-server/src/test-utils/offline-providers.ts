import { PseudoQueryGenerator, type EmbedOptions, type Embedder } from "@zip/deep-memory";
import { ExtractiveAnswerer } from "../answer.js";
import type { Providers } from "../backend.js";

/**
 * Feature-hashed bag of words (with word pairs), unit length: instant and
 * deterministic, and close enough to a real embedder for retrieval tests
 * (a question shares words with its passage). Optionally slow per call, as a
 * remote embedding API is, so a test can catch a job mid-phase.
 */
export class HashingEmbedder implements Embedder {
  readonly model: string;
  constructor(
    private readonly dims = 96,
    private readonly delayMs = 0,
  ) {
    this.model = `hashing-bow-${dims}`;
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    options.signal?.throwIfAborted();
    return texts.map((text) => this.embedOne(text));
  }

  private embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dims);
    const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
    const add = (token: string, weight: number) => {
      let h = 2166136261;
      for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 16777619);
      v[(h >>> 0) % this.dims]! += (h & 1 ? 1 : -1) * weight;
    };
    words.forEach((word, i) => {
      add(word, 1);
      if (i > 0) add(`${words[i - 1]} ${word}`, 0.5);
    });
    let norm = 0;
    for (const x of v) norm += x * x;
    if (norm === 0) v[0] = 1;
    else for (let i = 0; i < v.length; i++) v[i]! /= Math.sqrt(norm);
    return v;
  }
}

/** Everything on this machine without model files: hashed embeddings, LLM-free questions, extractive answers. */
export function offlineProviders(options: { embedDelayMs?: number } = {}): Providers {
  return {
    embedder: new HashingEmbedder(96, options.embedDelayMs ?? 0),
    generator: new PseudoQueryGenerator(),
    answerer: new ExtractiveAnswerer(),
    label: "hashed bag-of-words embeddings (tests)",
    online: false,
  };
}
