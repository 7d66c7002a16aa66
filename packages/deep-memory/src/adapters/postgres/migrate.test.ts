import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { StoreError } from "../../errors/errors.js";
import { deepMemoryMigrations } from "../training-store/sql-schema.js";
import { PostgresTrainingStore } from "./postgres-training-store.js";
import { connect, createTestDatabase, describeWithPostgres, type TestDatabase } from "./test-database.test-support.js";

const supabaseDir = fileURLToPath(new URL("../../../../../supabase/", import.meta.url));
const names = deepMemoryMigrations.map((m) => m.name);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

function storeOn(db: TestDatabase): PostgresTrainingStore {
  const store = new PostgresTrainingStore({ connectionString: db.url, max: 2 });
  cleanups.push(() => store.close());
  return store;
}

describeWithPostgres("migrate() on PostgreSQL", () => {
  it("applies the bundled migrations once and nothing on later calls", async () => {
    const db = await freshDatabase();
    const store = storeOn(db);
    expect(await store.migrate()).toEqual({ applied: names });
    expect(await store.migrate()).toEqual({ applied: [] });
    const client = await connect(db.url);
    try {
      const { rows } = await client.query(
        "select to_regprocedure('auth.uid()') is not null as auth, to_regclass('public.deep_memory_models') is not null as models",
      );
      expect(rows[0]).toEqual({ auth: true, models: true });
    } finally {
      await client.end();
    }
  });

  it("applies each migration exactly once when several processes start together", async () => {
    const db = await freshDatabase();
    const results = await Promise.all([storeOn(db), storeOn(db), storeOn(db)].map((s) => s.migrate()));
    expect(results.flatMap((r) => r.applied)).toEqual(names);
  });

  it("keeps an auth.uid() that is already there (Supabase's) instead of applying the shim", async () => {
    const db = await freshDatabase();
    const client = await connect(db.url);
    try {
      await client.query(`create schema auth; create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$`);
      await storeOn(db).migrate();
      const { rows } = await client.query("select prosrc from pg_proc where oid = 'auth.uid()'::regprocedure");
      expect(rows[0].prosrc.trim()).toBe("select null::uuid");
    } finally {
      await client.end();
    }
  });

  it("explains how to record migrations that were applied another way", async () => {
    const db = await freshDatabase();
    const client = await connect(db.url);
    try {
      // What `supabase db push` or the SQL editor would have done.
      await client.query(readFileSync(`${supabaseDir}standalone/auth-shim.sql`, "utf8"));
      await client.query(readFileSync(`${supabaseDir}migrations/${names[0]}`, "utf8"));
      const store = storeOn(db);
      const error = await store.migrate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`insert into public.deep_memory_schema_migrations (name) values ('${names[0]}')`);
      for (const name of names) await client.query("insert into public.deep_memory_schema_migrations (name) values ($1)", [name]);
      expect(await store.migrate()).toEqual({ applied: [] });
    } finally {
      await client.end();
    }
  });
});
