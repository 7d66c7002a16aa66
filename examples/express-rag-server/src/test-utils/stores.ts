import { describe } from "vitest";
// The core's own helper: a fresh database per test file on the real PostgreSQL, skipped (or, with REQUIRE_POSTGRES=1, failing) when unreachable.
import { createTestDatabase, describeWithPostgres, type TestDatabase } from "../../../../packages/deep-memory/src/adapters/postgres/test-database.test-support.js";

export { createTestDatabase, type TestDatabase };

/**
 * The two stores the example server runs on: PGlite (its default) and a real
 * PostgreSQL (DATABASE_URL, default the local server with trust auth).
 */
export type StoreKind = "pglite" | "postgres";

/** Runs `body` once per store. */
export function describeEachStore(name: string, body: (kind: StoreKind) => void): void {
  describe(`${name} (PGlite)`, () => body("pglite"));
  describeWithPostgres(`${name} (PostgreSQL)`, () => body("postgres"));
}

/** Reads until `done` holds, every 20 ms, up to `timeoutMs`. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
