import pg from "pg";
import { describe } from "vitest";
import { createScratchDatabase, redacted, type ScratchDatabase } from "./scratch-database.test-support.js";

/**
 * A fresh database on the real PostgreSQL for one test file, dropped at the
 * end. DATABASE_URL picks the server (default: the local one with trust auth).
 * Tests never mock the database.
 */
export const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redactedUrl = redacted(ADMIN_URL);

async function reachable(): Promise<string | null> {
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

const unreachable = await reachable();
if (unreachable && process.env.REQUIRE_POSTGRES === "1") {
  throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL at ${redactedUrl} is unreachable: ${unreachable}`);
}
if (unreachable) {
  console.warn(`Skipping PostgreSQL tests: ${redactedUrl} is unreachable (${unreachable}). CI sets REQUIRE_POSTGRES=1 to fail instead.`);
}

/** `describe` when PostgreSQL is reachable; a skipped describe on a developer machine without it (never in CI). */
export function describeWithPostgres(name: string, body: () => void): void {
  if (unreachable) describe.skip(name, body);
  else describe(name, body);
}

export type TestDatabase = ScratchDatabase;

export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(ADMIN_URL, "dm_test", "Start it (pg_ctlcluster <version> main start) or set DATABASE_URL.");
}

/** A client on the test database as its owner; close it with end(). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  return client;
}
