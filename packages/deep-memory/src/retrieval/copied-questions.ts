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

/** Questions copied from their chunks at this share or more cannot choose a fusion, or judge a model, on their own. */
export const copiedMajorityShare = 0.5;
/** The questions left to choose or judge on must be at least this many, and this share of the set. */
export const minUncopiedQuestions = 20;
export const minUncopiedShare = 0.1;

/**
 * Which of a set of questions can choose a fusion or judge a model, given
 * which are copied from their chunks: all of them where copies are under
 * half; else the others, if at least 20 and a tenth of the set; else none
 * (`rows` null). Keyword search finds a copied question through its own
 * words, so on copies the keyword-heaviest fusion always wins.
 */
export function uncopiedRows(copied: readonly boolean[]): { copied: number; majority: boolean; rows: number[] | null } {
  const count = copied.filter(Boolean).length;
  const majority = copied.length > 0 && count >= copiedMajorityShare * copied.length;
  const all = copied.map((_, i) => i);
  if (!majority) return { copied: count, majority, rows: all };
  const others = all.filter((i) => !copied[i]);
  return { copied: count, majority, rows: others.length >= Math.max(minUncopiedQuestions, minUncopiedShare * copied.length) ? others : null };
}
