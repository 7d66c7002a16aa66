import type { MetricTable } from "../domain/metrics.js";

export const defaultTopK = [1, 3, 5, 10, 50, 100] as const;

/**
 * Retrieval metrics for one query set. Recall follows Activeloop's definition:
 * per query |relevant in top k| / |relevant|, queries without relevant ids are
 * skipped, and the mean over queries is reported. nDCG@10 uses binary gains
 * (BEIR's graded qrels are binary for most sets), MRR@10 the first relevant hit.
 */
export function retrievalMetrics(
  rankings: readonly (readonly string[])[],
  relevant: readonly ReadonlySet<string>[],
  topK: readonly number[] = defaultTopK,
): { metrics: MetricTable; queryCount: number } {
  const sums = new Map<string, number>();
  const add = (key: string, value: number) => sums.set(key, (sums.get(key) ?? 0) + value);
  let queryCount = 0;
  for (let q = 0; q < rankings.length; q++) {
    const rel = relevant[q];
    const ranking = rankings[q]!;
    if (!rel || rel.size === 0) continue;
    queryCount++;
    for (const k of topK) {
      let found = 0;
      for (let i = 0; i < Math.min(k, ranking.length); i++) if (rel.has(ranking[i]!)) found++;
      add(`recall@${k}`, found / rel.size);
    }
    add("ndcg@10", ndcgAt(ranking, rel, 10));
    add("mrr@10", mrrAt(ranking, rel, 10));
  }
  const metrics: MetricTable = {};
  for (const k of topK) metrics[`recall@${k}`] = queryCount ? sums.get(`recall@${k}`)! / queryCount : 0;
  metrics["ndcg@10"] = queryCount ? sums.get("ndcg@10")! / queryCount : 0;
  metrics["mrr@10"] = queryCount ? sums.get("mrr@10")! / queryCount : 0;
  return { metrics, queryCount };
}

export function ndcgAt(ranking: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranking.length); i++) if (relevant.has(ranking[i]!)) dcg += 1 / Math.log2(i + 2);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function mrrAt(ranking: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  for (let i = 0; i < Math.min(k, ranking.length); i++) if (relevant.has(ranking[i]!)) return 1 / (i + 1);
  return 0;
}
