import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";

/**
 * A fresh database on the real PostgreSQL for one test file, dropped at the
 * end. DATABASE_URL picks the server (default: the local one with trust auth).
 * Tests never mock the database.
 */
export const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redactedUrl = ADMIN_URL.replace(/:[^:@/]*@/, ":***@");

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

export interface TestDatabase {
  name: string;
  url: string;
  /** Terminates every connection to it and drops it. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach PostgreSQL at ${redactedUrl} (${(error as Error).message}). ` +
        "Start it (pg_ctlcluster <version> main start) or set DATABASE_URL.",
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  // Our own random hex name, so it is safe as an identifier.
  const name = `dm_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  return {
    name,
    url: withDatabase(ADMIN_URL, name),
    drop: () => admin(async (c) => void (await c.query(`drop database if exists ${name} with (force)`))),
  };
}

/** A client on the test database as its owner; close it with end(). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  return client;
}
