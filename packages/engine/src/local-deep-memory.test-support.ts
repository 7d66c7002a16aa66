/** Worlds and measures shared by the LocalDeepMemory tests (local-deep-memory*.test.ts); not published. */
import type { EngineTrainInput } from "./contract.js";
import { dot, normalizeRows, orthonormalizeRows } from "./kernels.js";
import { SeededRandom } from "./random.js";

export function unit(v: Float32Array): Float32Array {
  normalizeRows(v, 1, v.length);
  return v;
}

export function unitVector(random: SeededRandom, d: number): Float32Array {
  return unit(Float32Array.from({ length: d }, () => random.normal()));
}

export function ranking(query: Float32Array, corpus: Float32Array[]): number[] {
  const scores = corpus.map((c) => dot(query, c));
  return [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b);
}

export function recallAt10(transform: (q: Float32Array) => Float32Array, queries: Float32Array[], answers: number[], corpus: Float32Array[]) {
  let hits = 0;
  queries.forEach((q, i) => {
    if (ranking(transform(q), corpus).slice(0, 10).includes(answers[i]!)) hits++;
  });
  return hits / queries.length;
}

/**
 * Questions are a hidden rotation of their chunk plus noise, so plain cosine
 * search barely finds them and the right transform (the inverse rotation) is
 * known to exist. Held-out questions are about chunks never trained on.
 */
export function rotatedWorld(seed: number, d = 32, chunks = 300) {
  const random = new SeededRandom(seed);
  const corpus = Array.from({ length: chunks }, () => unitVector(random, d));
  const rotation = Float32Array.from({ length: d * d }, () => random.normal());
  orthonormalizeRows(rotation, d, d, () => {
    throw new Error("random matrix was singular");
  });
  const ask = (chunk: number) => {
    const q = new Float32Array(d);
    for (let i = 0; i < d; i++) q[i] = dot(rotation, corpus[chunk]!, d, i * d, 0) + 0.15 * random.normal() / Math.sqrt(d);
    return unit(q);
  };
  const trainChunks = Array.from({ length: 200 }, (_, i) => i);
  const input: EngineTrainInput = {
    dimensions: d,
    queries: trainChunks.flatMap((c) => [ask(c), ask(c)]),
    positives: trainChunks.flatMap((c) => [[c], [c]]),
    corpus,
    seed: 7,
  };
  const heldOutChunks = Array.from({ length: chunks - 200 }, (_, i) => 200 + i);
  return { input, corpus, heldOutQueries: heldOutChunks.map(ask), heldOutAnswers: heldOutChunks };
}

/**
 * Questions near a random topic of their chunk's own, so no linear map finds the chunk and a question memory does:
 * chunks 0..199 have a topic, the other 100 are never asked about. ask(c) draws one more question about chunk c.
 */
export function topicWorld(seed: number, d = 32) {
  const random = new SeededRandom(seed);
  const corpus = Array.from({ length: 300 }, () => unitVector(random, d));
  const topics = Array.from({ length: 200 }, () => unitVector(random, d));
  const ask = (c: number) => unit(Float32Array.from(topics[c]!, (x) => x + (0.3 * random.normal()) / Math.sqrt(d)));
  return { d, corpus, topics, ask };
}

export const fastOptions = { rank: 32, maxEpochs: 25, learningRate: 0.01, batchSize: 64, patience: 5 } as const;
