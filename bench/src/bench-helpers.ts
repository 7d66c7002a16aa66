import type { Embedder, QueryTransform } from "@zip/deep-memory";
import type { EngineSpeed } from "./engine-speed.js";
import { median } from "./retrieval-eval.js";

/** An embedder that answers from remembered vectors first (the pseudo-queries' cached embeddings). */
export function memoise(embedder: Embedder): Embedder & { remember(text: string, v: Float32Array): void } {
  const cache = new Map<string, Float32Array>();
  return {
    model: embedder.model,
    remember: (text, v) => cache.set(`query\0${text}`, v),
    async embed(texts, options) {
      const kind = options?.kind ?? "document";
      const missing = texts.filter((t) => !cache.has(`${kind}\0${t}`));
      if (missing.length) {
        const vectors = await embedder.embed(missing, options);
        missing.forEach((t, i) => cache.set(`${kind}\0${t}`, vectors[i]!));
      }
      return texts.map((t) => cache.get(`${kind}\0${t}`)!);
    },
  };
}

export function timeApply(transform: QueryTransform, queries: Float32Array[]): number {
  const n = Math.min(queries.length, 2000);
  for (let i = 0; i < n; i++) transform.apply(queries[i]!);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const s = performance.now();
    for (let i = 0; i < n; i++) transform.apply(queries[i]!);
    rounds.push(((performance.now() - s) * 1000) / n);
  }
  return median(rounds);
}

export function printSpeed(speed: EngineSpeed[]) {
  console.log("\nEngine speed (synthetic vectors)");
  console.log("dims | pairs | corpus | train s | epochs | val recall@10 before -> after | apply us/query");
  for (const s of speed) {
    const val = `${s.baselineValidationRecallAt10.toFixed(3)} -> ${s.validationRecallAt10.toFixed(3)}`;
    console.log(`${String(s.dimensions).padStart(4)} | ${String(s.pairs).padStart(5)} | ${String(s.corpus).padStart(6)} | ${s.trainSeconds.toFixed(2).padStart(7)} | ${String(s.epochs).padStart(6)} | ${val.padStart(29)} | ${s.applyMicrosPerQuery.toFixed(1).padStart(14)}`);
  }
}

