import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";

/**
 * The two stores the example server runs on: PGlite (its default) and a real
 * PostgreSQL (DATABASE_URL, default the local server with trust auth), each
 * test file on a fresh database dropped at the end. Without PostgreSQL its
 * half is skipped with a message, unless REQUIRE_POSTGRES=1 (CI) makes that a failure.
 */
export const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.end();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const postgresProblem = await unreachable();
if (postgresProblem && process.env.REQUIRE_POSTGRES === "1") throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: ${postgresProblem}`);
if (postgresProblem) console.warn(`[express-rag-server] SKIPPING the PostgreSQL half of these tests: ${postgresProblem}`);

export type StoreKind = "pglite" | "postgres";

/** Runs `body` once per store (a skipped describe for PostgreSQL when it is unreachable). */
export function describeEachStore(name: string, body: (kind: StoreKind) => void): void {
  describe(`${name} (PGlite)`, () => body("pglite"));
  (postgresProblem ? describe.skip : describe)(`${name} (PostgreSQL)`, () => body("postgres"));
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the real PostgreSQL; drop() ends its connections and removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `dm_example_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(async (c) => void (await c.query(`drop database if exists ${name} with (force)`))) };
}
