/**
 * tsx --conditions=@zip/source bench/src/sql-text-search.ts <beir-dataset-dir>
 *     [--database-url postgres://...] [--out results/sql-text-search.json] [--splits train,test]
 *
 * How good is PostgreSQL as the lexical leg of hybrid search? Loads the corpus
 * into the pgvector store's table (PGlite in memory by default, or any
 * PostgreSQL with pgvector given by --database-url), runs each split's queries
 * through PgVectorStore.textSearch (BM25 over the term table) and, on the same
 * rows, through the usual alternatives: ts_rank_cd over websearch_to_tsquery /
 * plainto_tsquery (AND: every word must occur) and over an OR of the query's
 * lexemes, with ts_rank_cd's normalisation flags. Settings are chosen on the
 * train split (nothing here trains on it) and reported on test.
 * Prints a table and writes the figures as JSON.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { type MetricTable } from "@zip/deep-memory";
import { retrievalMetrics } from "@zip/deep-memory/evaluation";
import { PgVectorStore } from "@zip/deep-memory/pgvector";
import pg from "pg";
import { loadBeir } from "./beir.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "database-url": { type: "string" },
    out: { type: "string", default: "results/sql-text-search.json" },
    splits: { type: "string", default: "train,test" },
    /** Only the variants whose name contains this text (e.g. BM25). */
    variants: { type: "string", default: "" },
  },
});
const datasetDir = positionals[0];
if (!datasetDir) {
  console.error("usage: tsx --conditions=@zip/source bench/src/sql-text-search.ts <beir-dataset-dir> [--database-url URL] [--out FILE]");
  process.exit(2);
}

const TABLE = "bench_text_chunks";
const K = 100;
const dataset = await loadBeir(resolve(datasetDir));
console.log(`${dataset.name}: ${dataset.documents.length} documents, ${dataset.queries.size} queries`);

// The store and a way to run the alternatives' SQL on the same database.
type Query = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
let store: PgVectorStore;
let connection: { pool: pg.Pool } | { pglite: PGlite };
let query: Query;
let close: () => Promise<void>;
let engine: string;
const storeOptions = { dimensions: 1, index: "none" as const, table: TABLE };
if (values["database-url"]) {
  const pool = new pg.Pool({ connectionString: values["database-url"], max: 2 });
  connection = { pool };
  store = new PgVectorStore({ ...storeOptions, ...connection });
  query = async (sql, params) => (await pool.query(sql, params)).rows as Record<string, unknown>[];
  close = () => pool.end();
  const [info] = await query("select version() as v, (select default_version from pg_available_extensions where name = 'vector') as pgv", []);
  engine = `${String(info!.v).split(" on ")[0]}, pgvector ${String(info!.pgv)}`;
} else {
  const db = await PGlite.create({ extensions: { vector } });
  connection = { pglite: db };
  store = new PgVectorStore({ ...storeOptions, ...connection });
  query = async (sql, params) => (await db.query(sql, params)).rows as Record<string, unknown>[];
  close = () => db.close();
  engine = `PGlite: ${String((await query("select version() as v", []))[0]!.v).split(" on ")[0]}`;
}
console.log(engine);

await query(`drop table if exists public.${TABLE}, public.${TABLE}_terms, public.${TABLE}_term_stats cascade`, []);
await store.migrate();
// Text search only: every chunk gets the same one-dimensional vector.
let started = performance.now();
const BATCH = 250;
for (let i = 0; i < dataset.documents.length; i += BATCH) {
  await store.upsert(dataset.documents.slice(i, i + BATCH).map((d) => ({ id: d.id, text: d.text, embedding: [1] })));
}
const loadSeconds = (performance.now() - started) / 1000;
// A GIN index for the ts_rank_cd alternatives (the BM25 leg reads the term table instead).
started = performance.now();
await query(`create index ${TABLE}_tsv_gin on public.${TABLE} using gin (content_tsv)`, []);
const ginSeconds = (performance.now() - started) / 1000;
await query(`analyze public.${TABLE}; analyze public.${TABLE}_terms`, []).catch(async () => {
  await query(`analyze public.${TABLE}`, []);
  await query(`analyze public.${TABLE}_terms`, []);
});
const sizes = (await query(
  `select pg_total_relation_size('public.${TABLE}') - pg_relation_size('public.${TABLE}_tsv_gin') as chunks_bytes,
          pg_relation_size('public.${TABLE}_tsv_gin') as gin_bytes,
          pg_total_relation_size('public.${TABLE}_terms') as terms_bytes,
          (select count(*) from public.${TABLE}_terms)::int as term_rows`,
  [],
))[0]!;
const mb = (bytes: unknown) => `${(Number(bytes) / 2 ** 20).toFixed(1)} MB`;
console.log(
  `loaded in ${loadSeconds.toFixed(1)} s (term index kept by triggers); GIN index ${ginSeconds.toFixed(1)} s; ` +
    `chunks ${mb(sizes.chunks_bytes)}, GIN ${mb(sizes.gin_bytes)}, term table ${mb(sizes.terms_bytes)} (${Number(sizes.term_rows)} rows)`,
);

// The query as the OR of its lexemes: any shared word is enough to match.
// Lexemes are quoted as tsquery literals (backslash and quote escaped) and cast, not parsed again.
const orQuery = `(select string_agg('''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery
                    from unnest(to_tsvector('english', $1::text)) u)`;
const tsRank = (tsquery: string, rank: string) =>
  `select c.id from public.${TABLE} c, (select ${tsquery} as q) x where c.content_tsv @@ x.q order by ${rank} desc, c.id limit ${K}`;

interface Variant {
  name: string;
  run(text: string): Promise<string[]>;
}
const sqlVariant = (name: string, sql: string): Variant => ({
  name,
  run: async (text) => (await query(sql, [text])).map((r) => String(r.id)),
});
const bm25Variant = (k1: number, b: number): Variant => {
  // Same database and table, other BM25 parameters.
  const tuned = new PgVectorStore({ ...storeOptions, ...connection, bm25: { k1, b } });
  return {
    name: `BM25 k1=${k1} b=${b}${k1 === 1.2 && b === 0.75 ? " (the store's default)" : ""}`,
    run: async (text) => (await tuned.textSearch({ userId: "bench", query: text, k: K })).map((h) => h.id),
  };
};

const allVariants: Variant[] = [
  bm25Variant(1.2, 0.75),
  bm25Variant(1.5, 0.75),
  bm25Variant(0.9, 0.4),
  sqlVariant("ts_rank_cd, websearch_to_tsquery (AND)", tsRank("websearch_to_tsquery('english', $1::text)", "ts_rank_cd(c.content_tsv, x.q)")),
  sqlVariant("ts_rank_cd, plainto_tsquery (AND)", tsRank("plainto_tsquery('english', $1::text)", "ts_rank_cd(c.content_tsv, x.q)")),
  ...[0, 1, 2, 4, 5, 32].map((flags) =>
    sqlVariant(`ts_rank_cd, OR of lexemes, normalization ${flags}`, tsRank(orQuery, `ts_rank_cd(c.content_tsv, x.q, ${flags})`)),
  ),
  sqlVariant("ts_rank, OR of lexemes, normalization 1", tsRank(orQuery, "ts_rank(c.content_tsv, x.q, 1)")),
];

const variants = allVariants.filter((v) => v.name.includes(values.variants));

interface Row {
  split: string;
  variant: string;
  metrics: MetricTable;
  noResult: number;
  msPerQuery: number;
}
const rows: Row[] = [];
for (const split of values.splits.split(",")) {
  const qrels = dataset.qrels[split];
  if (!qrels) {
    console.warn(`no qrels/${split}.tsv: skipped`);
    continue;
  }
  const ids = [...qrels.keys()].filter((id) => dataset.queries.has(id));
  for (const variant of variants) {
    const rankings: string[][] = [];
    let noResult = 0;
    const t0 = performance.now();
    for (const id of ids) {
      const ranking = await variant.run(dataset.queries.get(id)!);
      if (ranking.length === 0) noResult++;
      rankings.push(ranking);
    }
    const msPerQuery = (performance.now() - t0) / ids.length;
    const { metrics } = retrievalMetrics(rankings, ids.map((id) => qrels.get(id)!), [10, 100]);
    rows.push({ split, variant: variant.name, metrics, noResult, msPerQuery });
    console.log(
      `${split.padEnd(5)} ${variant.name.padEnd(46)} recall@10 ${metrics["recall@10"]!.toFixed(3)}  nDCG@10 ${metrics["ndcg@10"]!.toFixed(3)}  ` +
        `recall@100 ${metrics["recall@100"]!.toFixed(3)}  no result ${String(noResult).padStart(3)}/${ids.length}  ${msPerQuery.toFixed(1)} ms/query`,
    );
  }
}

const out = resolve(values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  JSON.stringify(
    { dataset: dataset.name, documents: dataset.documents.length, engine, loadSeconds, ginSeconds, sizes, k: K, rows },
    null,
    2,
  ),
);
console.log(`wrote ${out}`);
await query(`drop table if exists public.${TABLE}, public.${TABLE}_terms, public.${TABLE}_term_stats cascade`, []);
await close();
