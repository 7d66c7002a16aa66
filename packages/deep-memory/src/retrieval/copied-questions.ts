import { englishTerms } from "./english-analyzer.js";

/**
 * Share of a question's consecutive content-word pairs (stemmed, stop words
 * dropped, as BM25 indexes them) that occur, in the same order, in its chunk.
 * A sentence cut from the chunk scores about 1; a question a person asked
 * reuses the chunk's words but seldom its phrases. Measured on training
 * questions against their chunks (share at or above 0.8): SciFact claims 1%,
 * BoolQ questions 2%, FiQA questions 0%; the offline generator's "sentences"
 * 99% and its "mixed" style 56-66%.
 */
export function copiedPhraseShare(question: string, chunkText: string): number {
  const q = englishTerms(question);
  if (q.length < 2) return 0;
  const c = englishTerms(chunkText);
  const pairs = new Set<string>();
  for (let i = 1; i < c.length; i++) pairs.add(`${c[i - 1]} ${c[i]}`);
  let found = 0;
  for (let i = 1; i < q.length; i++) if (pairs.has(`${q[i - 1]} ${q[i]}`)) found++;
  return found / (q.length - 1);
}

/** At or above this share a question counts as copied from its chunk (see copiedPhraseShare). */
export const copiedPhraseThreshold = 0.8;

/** Whether a question is copied from (any of) its chunks' text rather than asked about it. */
export function isCopiedQuestion(question: string, chunkTexts: readonly string[]): boolean {
  return chunkTexts.some((text) => copiedPhraseShare(question, text) >= copiedPhraseThreshold);
}
