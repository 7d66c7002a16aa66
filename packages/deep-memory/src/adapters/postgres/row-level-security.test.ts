import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, newRun, outcome } from "../training-store/training-store.contract.js";
import { PostgresTrainingStore } from "./postgres-training-store.js";
import { connect, createTestDatabase, describeWithPostgres, type TestDatabase } from "./test-database.test-support.js";

/**
 * Row-level security proven on the real PostgreSQL: the migrations plus the
 * auth shim, then queries as role `authenticated` with user A's JWT claims set
 * the way PostgREST sets them for each Supabase request.
 */

const A = randomUUID();
const B = randomUUID();
const TABLES = [
  "deep_memory_training_runs",
  "deep_memory_training_pairs",
  "deep_memory_chunk_outcomes",
  "deep_memory_settings",
  "deep_memory_models",
] as const;

let db: TestDatabase;
let store: PostgresTrainingStore;
let owner: pg.Client;
const runOf: Record<string, string> = {};

describeWithPostgres("row-level security on PostgreSQL", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    store = await PostgresTrainingStore.connect({ connectionString: db.url, max: 2 });
    owner = await connect(db.url);
    // Each user gets a run with a pair, an outcome, settings and a model.
    for (const user of [A, B]) {
      const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
      runOf[user] = run.id;
      await store.recordChunk(user, run.id, outcome(`chunk-${user}`, [`question of ${user}?`]), "worker-1", at(1));
      await store.saveSettings(user, { enabled: true, lastTrainingRunId: run.id, modelRunId: run.id }, at(2));
      await store.saveModel({
        runId: run.id,
        userId: user,
        engine: "e",
        format: "f",
        dimensions: 2,
        embeddingModel: "m",
        weights: new Uint8Array([1, 2]),
        metrics: {},
        createdAt: at(3),
      });
    }
  });

  afterAll(async () => {
    await owner?.end();
    await store?.close();
    await db?.drop();
  });

  /** Runs `fn` as `role` with `sub`'s claims in a transaction that is rolled back, as a PostgREST request would. */
  async function as<T>(role: "authenticated" | "anon" | "service_role", sub: string | null, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = await connect(db.url);
    try {
      await client.query("begin");
      await client.query(`set local role ${role}`);
      await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub, role })]);
      return await fn(client);
    } finally {
      await client.query("rollback").catch(() => {});
      await client.end();
    }
  }

  /** The SQLSTATE a statement fails with, run in a savepoint so the transaction goes on. */
  async function failure(client: pg.Client, text: string, params: unknown[] = []): Promise<string> {
    await client.query("savepoint attempt");
    try {
      await client.query(text, params);
    } catch (error) {
      await client.query("rollback to savepoint attempt");
      return String((error as { code?: string }).code);
    }
    await client.query("release savepoint attempt");
    return "no error";
  }

  /** The same, as the tables' owner (row-level security does not apply), rolled back. */
  async function ownerFailure(text: string, params: unknown[] = []): Promise<string> {
    await owner.query("begin");
    try {
      return await failure(owner, text, params);
    } finally {
      await owner.query("rollback");
    }
  }

  async function ownerCount(table: string, user: string): Promise<number> {
    const { rows } = await owner.query(`select count(*)::int as n from public.${table} where user_id = $1`, [user]);
    return rows[0].n;
  }

  describe("row-level security for a signed-in user", () => {
    it("shows A only A's rows in every table", async () => {
      await as("authenticated", A, async (c) => {
        for (const table of TABLES) {
          const { rows } = await c.query(`select user_id from public.${table}`);
          expect(rows.length, table).toBeGreaterThan(0);
          expect(new Set(rows.map((r) => r.user_id)), table).toEqual(new Set([A]));
        }
      });
    });

    it("will not let A insert rows for B", async () => {
      await as("authenticated", A, async (c) => {
        expect(
          await failure(
            c,
            `insert into public.deep_memory_training_runs (id, user_id, status, generation) values ($1, $2, 'completed', '{}')`,
            [randomUUID(), B],
          ),
        ).toBe("42501");
        expect(
          await failure(
            c,
            `insert into public.deep_memory_training_pairs (run_id, user_id, chunk_id, question) values ($1, $2, 'x', 'q?')`,
            [runOf[B], B],
          ),
        ).toBe("42501");
        expect(
          await failure(
            c,
            `insert into public.deep_memory_chunk_outcomes (run_id, user_id, chunk_id, status) values ($1, $2, 'x', 'done')`,
            [runOf[B], B],
          ),
        ).toBe("42501");
        expect(await failure(c, `insert into public.deep_memory_settings (user_id, enabled) values ($1, false)`, [B])).toBe("42501");
        expect(
          await failure(
            c,
            `insert into public.deep_memory_models (run_id, user_id, engine, format, dimensions, embedding_model, weights)
           values ($1, $2, 'e', 'f', 1, 'm', '\\x00')`,
            [runOf[B], B],
          ),
        ).toBe("42501");
      });
    });

    it("will not let A attach A's rows to B's run", async () => {
      await as("authenticated", A, async (c) => {
        // Passes the policy (user_id is A's) but the (run, user) foreign key refuses it.
        expect(
          await failure(
            c,
            `insert into public.deep_memory_training_pairs (run_id, user_id, chunk_id, question) values ($1, $2, 'x', 'q?')`,
            [runOf[B], A],
          ),
        ).toBe("23503");
        expect(await failure(c, `update public.deep_memory_settings set model_run_id = $1 where user_id = $2`, [runOf[B], A])).toBe(
          "23503",
        );
      });
    });

    it("turns A's updates and deletes of B's rows into no-ops and leaves B's data intact", async () => {
      await as("authenticated", A, async (c) => {
        for (const table of TABLES) {
          const setClause = table === "deep_memory_settings" ? "enabled = false" : "user_id = user_id";
          const updated = await c.query(`update public.${table} set ${setClause} where user_id = $1`, [B]);
          expect(updated.rowCount, table).toBe(0);
          const deleted = await c.query(`delete from public.${table} where user_id = $1`, [B]);
          expect(deleted.rowCount, table).toBe(0);
        }
        // Nor can A hand its own run to B.
        expect(await failure(c, `update public.deep_memory_training_runs set user_id = $1 where user_id = $2`, [B, A])).toBe("42501");
      });
      for (const table of TABLES) expect(await ownerCount(table, B), table).toBe(1);
      const settings = await owner.query("select enabled from public.deep_memory_settings where user_id = $1", [B]);
      expect(settings.rows[0].enabled).toBe(true);
    });

    it("lets A change and delete A's own rows", async () => {
      await as("authenticated", A, async (c) => {
        const updated = await c.query("update public.deep_memory_settings set enabled = false where user_id = $1", [A]);
        expect(updated.rowCount).toBe(1);
        const deleted = await c.query("delete from public.deep_memory_training_pairs where user_id = $1", [A]);
        expect(deleted.rowCount).toBe(1);
      });
    });

    it("keeps the store functions inside A's rows when A calls them with B's id", async () => {
      await as("authenticated", A, async (c) => {
        expect(
          await failure(
            c,
            `select * from public.deep_memory_record_chunk($1, $2, 'worker-1', 'new', 'done', array['q?'], null, 0, false, now())`,
            [B, runOf[B]],
          ),
        ).toBe("DM001");
        const lease = await c.query(`select * from public.deep_memory_claim_lease($1, $2, 'thief', now() + interval '1 hour', now())`, [
          B,
          runOf[B],
        ]);
        expect(lease.rowCount).toBe(0);
        const chunks = await c.query(`select * from public.deep_memory_chunk_ids_with_pairs($1, array['generating'])`, [B]);
        expect(chunks.rowCount).toBe(0);
        // With A's own id the functions work.
        const own = await c.query(`select * from public.deep_memory_chunk_ids_with_pairs($1, array['generating'])`, [A]);
        expect(own.rows.map((r) => r.chunk_id)).toEqual([`chunk-${A}`]);
      });
      expect(
        (await owner.query("select lease_owner from public.deep_memory_training_runs where id = $1", [runOf[B]])).rows[0].lease_owner,
      ).toBe("worker-1");
    });

    it("gives a signed-in user without a sub claim nothing", async () => {
      await as("authenticated", null, async (c) => {
        for (const table of TABLES) expect((await c.query(`select 1 from public.${table}`)).rowCount, table).toBe(0);
      });
    });
  });

  describe("other roles", () => {
    it("refuses the anon role outright", async () => {
      await as("anon", null, async (c) => {
        for (const table of TABLES) expect(await failure(c, `select 1 from public.${table}`), table).toBe("42501");
        expect(await failure(c, `select * from public.deep_memory_chunk_ids_with_pairs($1, array['generating'])`, [A])).toBe("42501");
      });
    });

    it("lets the service role read and write every user's rows", async () => {
      await as("service_role", null, async (c) => {
        for (const table of TABLES) {
          const { rows } = await c.query(`select distinct user_id from public.${table}`);
          expect(new Set(rows.map((r) => r.user_id)), table).toEqual(new Set([A, B]));
        }
        const updated = await c.query("update public.deep_memory_training_runs set error = 'checked' where user_id = any($1)", [[A, B]]);
        expect(updated.rowCount).toBe(2);
      });
    });
  });

  describe("constraints", () => {
    it("rejects an unknown status, negative counts and a bad failed phase", async () => {
      await as("authenticated", A, async (c) => {
        const insert = (column: string, value: unknown) =>
          failure(
            c,
            `insert into public.deep_memory_training_runs (id, user_id, generation, status, ${column}) values ($1, $2, '{}', 'completed', $3)`,
            [randomUUID(), A, value],
          );
        expect(await failure(c, `update public.deep_memory_training_runs set status = 'paused' where user_id = $1`, [A])).toBe("23514");
        for (const column of [
          "total_chunks",
          "processed_chunks",
          "skipped_chunks",
          "existing_chunks",
          "pair_count",
          "duplicates_removed",
        ]) {
          expect(await insert(column, -1), column).toBe("23514");
        }
        expect(await insert("failed_phase", "evaluating")).toBe("23514");
        expect(await insert("metrics", "[1,2]")).toBe("23514");
      });
    });

    it("rejects a second active run for a user, a duplicate pair, and empty or oversized text", async () => {
      await as("authenticated", A, async (c) => {
        expect(
          await failure(
            c,
            `insert into public.deep_memory_training_runs (id, user_id, generation, status) values ($1, $2, '{}', 'training')`,
            [randomUUID(), A],
          ),
        ).toBe("23505");
        const pair = `insert into public.deep_memory_training_pairs (run_id, user_id, chunk_id, question) values ($1, $2, $3, $4)`;
        expect(await failure(c, pair, [runOf[A], A, "dup", "same?"])).toBe("no error");
        expect(await failure(c, pair, [runOf[A], A, "dup", "same?"])).toBe("23505");
        expect(await failure(c, pair, [runOf[A], A, "dup", ""])).toBe("23514");
        expect(await failure(c, pair, [runOf[A], A, "dup", "x".repeat(2001)])).toBe("23514");
        expect(await failure(c, `insert into public.deep_memory_settings (user_id) values ('')`)).toBe("42501");
      });
      // As the owner (no RLS) the checks still hold.
      expect(await ownerFailure(`insert into public.deep_memory_settings (user_id) values ('')`)).toBe("23514");
      expect(
        await ownerFailure(
          `insert into public.deep_memory_training_pairs (run_id, user_id, chunk_id, question) values ($1, $2, 'x', 'q?')`,
          [runOf[B], A],
        ),
      ).toBe("23503");
    });

    it("cascades a run's deletion to its pairs, outcomes and model, and clears settings that point at it", async () => {
      const user = randomUUID();
      const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
      await store.recordChunk(user, run.id, outcome("c", ["q?"]), "worker-1", at(1));
      await store.saveSettings(user, { modelRunId: run.id, lastTrainingRunId: run.id, enabled: true }, at(2));
      await store.saveModel({
        runId: run.id,
        userId: user,
        engine: "e",
        format: "f",
        dimensions: 1,
        embeddingModel: "m",
        weights: new Uint8Array([9]),
        metrics: {},
        createdAt: at(3),
      });
      await owner.query("delete from public.deep_memory_training_runs where id = $1", [run.id]);
      for (const table of ["deep_memory_training_pairs", "deep_memory_chunk_outcomes", "deep_memory_models"]) {
        expect(await ownerCount(table, user), table).toBe(0);
      }
      expect(await store.getSettings(user)).toMatchObject({ userId: user, enabled: true, modelRunId: null, lastTrainingRunId: null });
    });
  });
});
