import pg from "pg";
import { createScratchDatabase, redacted, type ScratchDatabase } from "../postgres/scratch-database.test-support.js";

/**
 * A real PostgreSQL with the vector extension, for the pgvector store and the
 * Supabase documents SQL. PGVECTOR_DATABASE_URL names it (.ci/run starts one
 * from the `pgserver` wheel: PostgreSQL 16 with pgvector); without it the
 * tests that need it are skipped with the reason printed, except where
 * REQUIRE_PGVECTOR=1 (CI), which makes a missing server a failure.
 */
const URL_ENV = process.env.PGVECTOR_DATABASE_URL;

async function probe(): Promise<string | null> {
  if (!URL_ENV) return "PGVECTOR_DATABASE_URL is not set";
  const client = new pg.Client({ connectionString: URL_ENV, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pg_available_extensions where name = 'vector'");
    if (rows[0]!.n === 0) return `${redacted(URL_ENV)} has no vector extension available`;
    return null;
  } catch (error) {
    return `${redacted(URL_ENV)} is unreachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why the real-PostgreSQL pgvector tests cannot run here, or null when they can. */
export const pgvectorUnavailable = await probe();
if (pgvectorUnavailable && process.env.REQUIRE_PGVECTOR === "1") {
  throw new Error(`REQUIRE_PGVECTOR=1 but no PostgreSQL with pgvector: ${pgvectorUnavailable}`);
}
if (pgvectorUnavailable) {
  console.warn(`Skipping tests on PostgreSQL with pgvector: ${pgvectorUnavailable}. .ci/run starts one; CI sets REQUIRE_PGVECTOR=1 to fail instead.`);
}

export type PgvectorTestDatabase = ScratchDatabase;

/** A fresh database on the pgvector server, for one test file. */
export async function createPgvectorDatabase(): Promise<PgvectorTestDatabase> {
  if (!URL_ENV) throw new Error("PGVECTOR_DATABASE_URL is not set");
  return createScratchDatabase(URL_ENV, "dm_pgv");
}
