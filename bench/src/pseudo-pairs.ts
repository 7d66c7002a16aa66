import { GenerationOutputError, PseudoQueryGenerator } from "@zip/deep-memory";
import { stableUnit } from "@zip/deep-memory/evaluation";
import type { BeirDataset } from "./beir.js";

/**
 * The bench's LLM-free training pairs: up to `perDoc` pseudo-queries per
 * document (a document too short to ask about is skipped and counted); over
 * `maxPairs`, documents are taken in a seeded order until it is reached, so
 * the sample spreads over the corpus.
 */
export async function pseudoPairsFor(
  data: BeirDataset,
  options: { style: "sentences" | "mixed"; perDoc: number; maxPairs: number; seed: number },
): Promise<{ pairs: { question: string; chunkId: string }[]; documents: number; tooShort: number; model: string }> {
  const generator = new PseudoQueryGenerator({ style: options.style });
  let tooShort = 0;
  const byDocument = new Map<string, string[]>();
  for (const doc of data.documents) {
    if (!doc.text.trim()) continue;
    try {
      byDocument.set(doc.id, await generator.generate({ chunk: { id: doc.id, text: doc.text }, count: options.perDoc }));
    } catch (error) {
      if (!(error instanceof GenerationOutputError)) throw error;
      tooShort++;
    }
  }
  let total = 0;
  for (const questions of byDocument.values()) total += questions.length;
  let keep = new Set(byDocument.keys());
  if (total > options.maxPairs) {
    keep = new Set();
    let taken = 0;
    for (const id of [...byDocument.keys()].sort((a, b) => stableUnit(a, options.seed) - stableUnit(b, options.seed) || (a < b ? -1 : 1))) {
      if (taken + byDocument.get(id)!.length > options.maxPairs) break;
      keep.add(id);
      taken += byDocument.get(id)!.length;
    }
  }
  const pairs: { question: string; chunkId: string }[] = [];
  for (const [chunkId, questions] of byDocument) if (keep.has(chunkId)) for (const question of questions) pairs.push({ question, chunkId });
  return { pairs, documents: keep.size, tooShort, model: generator.model };
}
