import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * Throwaway databases on a PostgreSQL server, one per test file: the plain
 * server (test-database.test-support.ts) and the one with pgvector
 * (pgvector-database.test-support.ts) both make theirs here. No probing and no
 * side effects on import: each caller decides whether its server is there.
 */
export interface ScratchDatabase {
  name: string;
  url: string;
  /** Terminates every connection to it and drops it. */
  drop(): Promise<void>;
}

/** The password in a connection URL starred out, for messages. */
export const redacted = (url: string) => url.replace(/:[^:@/]*@/, ":***@");

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, hint: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot reach PostgreSQL at ${redacted(adminUrl)} (${(error as Error).message}).${hint ? ` ${hint}` : ""}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new database named `<prefix>_<random hex>` on the server `adminUrl` connects to as a superuser; `hint` follows the error when it is unreachable. */
export async function createScratchDatabase(adminUrl: string, prefix: string, hint = ""): Promise<ScratchDatabase> {
  // Our own random hex name, so it is safe as an identifier.
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await admin(adminUrl, hint, (c) => c.query(`create database ${name}`));
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => admin(adminUrl, hint, async (c) => void (await c.query(`drop database if exists ${name} with (force)`))),
  };
}
