import { StoreError } from "../../errors/errors.js";
import { authShimSql, deepMemoryMigrations, type SqlMigration } from "./sql-schema.js";
import type { SqlClient } from "./sql-training-store.js";

export interface MigrationResult {
  /** Migrations this call applied, by file name; empty when the schema was up to date. */
  applied: string[];
}

// Any constant works; it only has to be the same in every process.
const MIGRATION_LOCK_KEY = 731_540_117;

/**
 * Applies supabase/migrations (bundled in the package) that this database has
 * not seen yet, in one transaction under an advisory lock, so two processes
 * starting at once apply each migration exactly once. On a database that is not
 * Supabase it first adds the roles and auth.uid() the migrations' row-level
 * security policies name.
 */
export async function migrateDeepMemorySchema(
  client: SqlClient,
  migrations: readonly SqlMigration[] = deepMemoryMigrations,
): Promise<MigrationResult> {
  try {
    // First, on its own, what the migrations and their bookkeeping need, so
    // the table exists even when a migration below fails and rolls back.
    await client.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      const { rows: auth } = await tx.query("select to_regprocedure('auth.uid()') is not null as present");
      if (auth[0]?.present !== true) await tx.exec(authShimSql);
      await tx.exec(`
        create table if not exists public.deep_memory_schema_migrations (
          name text primary key,
          applied_at timestamptz not null default now()
        );
        alter table public.deep_memory_schema_migrations enable row level security;
        revoke all on table public.deep_memory_schema_migrations from anon, authenticated;
      `);
    });
    return await client.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      const { rows } = await tx.query("select name from public.deep_memory_schema_migrations");
      const done = new Set(rows.map((r) => String(r.name)));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.name)) continue;
        try {
          await tx.exec(migration.sql);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code === "42P07" || code === "42710" || code === "42723") {
            throw new StoreError(
              `Migration ${migration.name} conflicts with objects that already exist. If you applied supabase/migrations ` +
                `another way (supabase db push, the SQL editor), record it with: insert into public.deep_memory_schema_migrations (name) values ('${migration.name}')`,
              { cause: error },
            );
          }
          throw error;
        }
        await tx.query("insert into public.deep_memory_schema_migrations (name) values ($1::text)", [migration.name]);
        applied.push(migration.name);
      }
      return { applied };
    });
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`Applying the deep memory schema failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}
