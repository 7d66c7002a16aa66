import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { MetricTable } from "@zip/deep-memory";
import type { BeirDataset } from "./beir.js";

export interface Row {
  label: string;
  metrics: MetricTable;
  trainingSeconds: number | null;
  /** Median ms of one live search at k=10; null where not measured here. */
  latencyMs: number | null;
}

const columns = ["recall@1", "recall@3", "recall@5", "recall@10", "recall@50", "recall@100", "ndcg@10", "mrr@10"];

export function printRetrievalTable(title: string, rows: Row[]): void {
  const fmt = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(3));
  const width = Math.max(...rows.map((r) => r.label.length));
  const head = [...columns, "train s", "ms/query"];
  console.log(`\n${title}`);
  console.log(`${"".padEnd(width)} | ${head.map((c) => c.padStart(10)).join(" | ")}`);
  console.log(`${"-".repeat(width)}-+-${head.map(() => "-".repeat(10)).join("-+-")}`);
  for (const row of rows) {
    const cells = [...columns.map((c) => fmt(row.metrics[c])), row.trainingSeconds === null ? "-" : row.trainingSeconds.toFixed(1), row.latencyMs === null ? "-" : row.latencyMs.toFixed(2)];
    console.log(`${row.label.padEnd(width)} | ${cells.map((c) => c.padStart(10)).join(" | ")}`);
  }
}

/** The Python-measured alternatives (bench/python/alternatives.py) for a data set: rows of test metrics. */
const referenceSchema = z.object({
  dataset: z.object({ name: z.string(), corpusSha256: z.string().optional() }).passthrough(),
  rows: z.array(z.object({ method: z.string(), label: z.string(), test: z.record(z.string(), z.number()), trainingSeconds: z.number().nullish() }).passthrough()),
});
export type ReferenceRow = z.infer<typeof referenceSchema>["rows"][number];

/**
 * Reads `file`, or bench/reference/<name>.alternatives.json when it exists.
 * A file made from another corpus (its sha256 differs) is refused: its rows
 * would not be comparable.
 */
export async function loadReference(file: string | undefined, data: BeirDataset, log: (m: string) => void): Promise<{ file: string; rows: ReferenceRow[] } | null> {
  const path = file ?? join(dirname(fileURLToPath(import.meta.url)), "..", "reference", `${data.name}.alternatives.json`);
  if (!existsSync(path)) {
    if (file) throw new Error(`${file} not found`);
    return null;
  }
  const parsed = referenceSchema.parse(JSON.parse(await readFile(path, "utf8")));
  if (parsed.dataset.corpusSha256 && parsed.dataset.corpusSha256 !== data.corpusHash) {
    log(`ignoring ${path}: made from another corpus (sha256 ${parsed.dataset.corpusSha256.slice(0, 12)}, this one ${data.corpusHash.slice(0, 12)})`);
    return null;
  }
  log(`reference rows from ${path}: ${parsed.rows.map((r) => r.method).join(", ")}`);
  return { file: path, rows: parsed.rows };
}
