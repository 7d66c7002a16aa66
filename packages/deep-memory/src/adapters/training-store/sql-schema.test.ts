import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { authShimSql, deepMemoryMigrations } from "./sql-schema.js";

const supabaseDir = fileURLToPath(new URL("../../../../../supabase/", import.meta.url));

describe("bundled schema", () => {
  it("is exactly supabase/migrations and the auth shim (run `node supabase/generate-schema-module.mjs` after changing them)", () => {
    const files = readdirSync(`${supabaseDir}migrations`)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    expect(deepMemoryMigrations.map((m) => m.name)).toEqual(files);
    for (const migration of deepMemoryMigrations) {
      expect(migration.sql).toBe(readFileSync(`${supabaseDir}migrations/${migration.name}`, "utf8"));
    }
    expect(authShimSql).toBe(readFileSync(`${supabaseDir}standalone/auth-shim.sql`, "utf8"));
  });

  it("keeps the auth shim out of the migrations that go to Supabase", () => {
    for (const migration of deepMemoryMigrations) {
      expect(migration.sql).not.toMatch(/create\s+(role|schema\s+if\s+not\s+exists\s+auth)/i);
      expect(migration.sql).not.toMatch(/function\s+auth\./i);
    }
  });
});
