import { expect } from "vitest";
import type { SearchHit } from "../../domain/chunk.js";

/**
 * BM25 computed in TypeScript from the tsvectors PostgreSQL made, to check the
 * SQL ranking against: Lucene's idf ln(1 + (N - df + 0.5) / (df + 0.5)), term
 * frequency saturated by k1, length normalised by b against the average length.
 */
export interface ReferenceDoc {
  id: string;
  /** lexeme -> number of positions */
  terms: Map<string, number>;
  /** Sum of positions over lexemes. */
  length: number;
}

/** Rows of `select id::text as id, (select json_agg(json_build_array(lexeme, ...)) ...) as terms`. */
export function referenceDocs(rows: Record<string, unknown>[]): ReferenceDoc[] {
  return rows.map((row) => {
    const raw = typeof row.terms === "string" ? (JSON.parse(row.terms) as unknown) : row.terms;
    const pairs = (raw ?? []) as [string, number][];
    const terms = new Map(pairs);
    return { id: String(row.id), terms, length: pairs.reduce((sum, [, tf]) => sum + tf, 0) };
  });
}

/** The SQL that reads a table's tsvector column in the shape referenceDocs takes. */
export const termsOf = (column: string) =>
  `(select coalesce(json_agg(json_build_array(u.lexeme, coalesce(array_length(u.positions, 1), 1))), '[]'::json)::text from unnest(${column}) u)`;

export function bm25Scores(docs: readonly ReferenceDoc[], queryLexemes: readonly string[], k1 = 1.2, b = 0.75): Map<string, number> {
  const n = docs.length;
  const avg = docs.reduce((sum, d) => sum + d.length, 0) / Math.max(n, 1);
  const lexemes = [...new Set(queryLexemes)];
  const df = new Map(lexemes.map((l) => [l, docs.filter((d) => d.terms.has(l)).length]));
  const scores = new Map<string, number>();
  for (const doc of docs) {
    let score = 0;
    let matched = false;
    for (const l of lexemes) {
      const tf = doc.terms.get(l);
      if (!tf) continue;
      matched = true;
      const idf = Math.log(1 + (n - df.get(l)! + 0.5) / (df.get(l)! + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / Math.max(avg, 1)));
    }
    if (matched) scores.set(doc.id, score);
  }
  return scores;
}

/**
 * The hits are a correct top-k for the reference scores: each hit's score is
 * its reference score, best first, as many as match (up to k), and no chunk
 * left out scores above the last one returned (ties may fall either way).
 */
export function expectTopK(hits: readonly SearchHit[], reference: Map<string, number>, k: number): void {
  expect(hits.length).toBe(Math.min(k, reference.size));
  for (const hit of hits) {
    expect(reference.has(hit.id), `hit ${hit.id} shares no term with the query`).toBe(true);
    expect(hit.score).toBeCloseTo(reference.get(hit.id)!, 9);
  }
  for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
  const returned = new Set(hits.map((h) => h.id));
  const floor = hits.length > 0 ? hits[hits.length - 1]!.score : Infinity;
  for (const [id, score] of reference) if (!returned.has(id)) expect(score).toBeLessThanOrEqual(floor + 1e-9);
}
