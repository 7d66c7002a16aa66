// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- hosts compiling this source (the @zip/source condition) need the ambient types too; an import cannot bring a global declaration
/// <reference path="./wink-porter2-stemmer.d.ts" />
import stem from "wink-porter2-stemmer";

/**
 * Lucene's English stop words, the list bm25s (and Elasticsearch's `english`
 * analyzer) uses: only function words, so a query like "vitamin a" keeps "vitamin".
 */
export const englishStopWords: ReadonlySet<string> = new Set([
  "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or",
  "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
]);

// Runs of letters, digits, marks and underscores: Python's `\w+`, the token pattern of bm25s and scikit-learn.
const wordPattern = /[\p{L}\p{N}\p{M}_]+/gu;
const hasDigit = /\p{N}/u;

/**
 * The terms BM25 indexes for a text, as bm25s makes them: lower case, words
 * of two characters or more, stop words dropped, each stemmed with the
 * Porter2 (Snowball English) stemmer. Words with a digit are kept as they are
 * ("p53", "1990s"): the stemmer mangles digits, and Snowball leaves 99% of
 * such words unchanged anyway. Repeated words are repeated terms.
 */
export function englishTerms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(wordPattern)) {
    const word = match[0];
    if (word.length < 2 || englishStopWords.has(word)) continue;
    out.push(hasDigit.test(word) ? word : stemWord(word));
  }
  return out;
}

// Stemming dominates indexing time and vocabularies repeat heavily: remember recent stems.
const stemCache = new Map<string, string>();
const stemCacheLimit = 200_000;

function stemWord(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = stem(word);
    if (stemCache.size >= stemCacheLimit) stemCache.clear();
    stemCache.set(word, stemmed);
  }
  return stemmed;
}
