import { describe, expect, it } from "vitest";
import {
  importPairsRequestSchema,
  jobIdParamsSchema,
  runIdParamsSchema,
  searchRequestSchema,
  statusParamsSchema,
  trainRequestSchema,
} from "./index.js";

/** Text PostgreSQL cannot keep (NUL) or UTF-8 cannot encode (a lone surrogate). */
const unstorable = ["a\u0000b", "\ud800", "x\udc00y", "\udfff\ud800"];

describe("request schemas refuse text no store can keep", () => {
  it.each(unstorable)("%j in every request string", (bad) => {
    const cases: [string, { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[] }[] } } }, unknown, string][] = [
      ["question", importPairsRequestSchema, { pairs: [{ question: `q ${bad}`, chunk_id: "c" }] }, "pairs.0.question"],
      ["chunk id", importPairsRequestSchema, { pairs: [{ question: "q", chunk_id: bad }] }, "pairs.0.chunk_id"],
      ["source", importPairsRequestSchema, { pairs: [{ question: "q", chunk_id: "c" }], source: `s${bad}` }, "source"],
      ["query", searchRequestSchema, { query: `q${bad}` }, "query"],
      ["run id", trainRequestSchema, { training_run_id: bad }, "training_run_id"],
      ["run id param", runIdParamsSchema, { runId: bad }, "runId"],
      ["status id param", statusParamsSchema, { id: bad }, "id"],
      ["job id param", jobIdParamsSchema, { jobId: bad }, "jobId"],
    ];
    for (const [what, schema, value, path] of cases) {
      const parsed = schema.safeParse(value);
      expect(parsed.success, what).toBe(false);
      expect(parsed.error!.issues.map((i) => i.path.join(".")), what).toContain(path);
    }
  });

  it("keeps text with paired surrogates (emoji) and other control characters", () => {
    expect(searchRequestSchema.parse({ query: "buy 📈 now\t" }).query).toBe("buy 📈 now");
    expect(importPairsRequestSchema.safeParse({ pairs: [{ question: "Why 📉?", chunk_id: "note#1" }], source: "chat\u0001" }).success).toBe(true);
  });
});
