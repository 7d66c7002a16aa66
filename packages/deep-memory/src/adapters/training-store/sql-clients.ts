import type pg from "pg";
import type { SqlClient } from "./sql-training-store.js";

/**
 * SqlClient over node-postgres and over PGlite, shared by the training stores
 * and the pgvector store. `pg` is imported for its types only, so a PGlite
 * user never loads it through this module.
 */

type PgQueryable = Pick<pg.Pool | pg.PoolClient, "query">;

export function pgSqlClient(target: PgQueryable, pool: pg.Pool | null): SqlClient {
  return {
    query: async (text, params) => {
      const result = await target.query(text, params ? [...params] : []);
      return { rows: result.rows as Record<string, unknown>[] };
    },
    exec: async (sql) => {
      // No parameters: the simple protocol, which runs several statements.
      await target.query(sql);
    },
    transaction: async (fn) => {
      if (!pool) throw new Error("Nested transactions are not supported");
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("begin");
        const result = await fn(pgSqlClient(client, null));
        await client.query("commit");
        return result;
      } catch (error) {
        try {
          await client.query("rollback");
        } catch (rollbackError) {
          // The connection itself failed: drop it instead of returning it to the pool.
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}

/** The part of a PGlite instance (and of its transactions) the store uses. */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(fn: (tx: Omit<PGliteLike, "transaction">) => Promise<T>): Promise<T>;
}

export function pgliteSqlClient(db: Omit<PGliteLike, "transaction"> & Partial<Pick<PGliteLike, "transaction">>): SqlClient {
  return {
    query: async (text, params) => {
      const result = await db.query(text, params ? [...params] : []);
      return { rows: result.rows as Record<string, unknown>[] };
    },
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: async (fn) => {
      if (!db.transaction) throw new Error("Nested transactions are not supported");
      return db.transaction((tx) => fn(pgliteSqlClient(tx)));
    },
  };
}

/** Applies a new store's schema unless `migrate` is false; a store whose migration fails is closed first, so its pool does not hold the process open. */
export async function migratedOrClosed<S extends { migrate(): Promise<unknown>; close(): Promise<void> }>(store: S, migrate: boolean | undefined): Promise<S> {
  if (migrate === false) return store;
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
