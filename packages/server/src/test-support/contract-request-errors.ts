import { errorBodySchema } from "@zip/deep-memory-protocol";
import { describe, expect, it } from "vitest";
import type { StartRouter } from "./contract-harness.js";
import { createTrainer, Gate, GatedGenerator } from "./fixtures.js";

/** Malformed requests: every one a 4xx JSON error with a code and the offending field. */
export function requestErrorContract(start: StartRouter): void {
  describe("400s and other request errors", () => {
    const cases: [string, string, string, { raw?: string; body?: unknown; headers?: Record<string, string> }, number, string, string?][] = [
      ["malformed JSON", "POST", "train", { raw: '{"training_run_id":', headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      ["a JSON string where an object belongs", "POST", "train", { raw: '"run"', headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      ["a JSON array where an object belongs", "POST", "train", { body: [] }, 400, "VALIDATION_FAILED", "(root)"],
      ["a missing body", "POST", "train", {}, 400, "VALIDATION_FAILED", "(root)"],
      ["a missing field", "POST", "train", { body: {} }, 400, "VALIDATION_FAILED", "training_run_id"],
      ["a wrong type", "PUT", "settings", { body: { enabled: "yes" } }, 400, "VALIDATION_FAILED", "enabled"],
      ["an unknown field", "PUT", "settings", { body: { enabled: true, user_id: "bob" } }, 400, "VALIDATION_FAILED", "user_id"],
      ["an empty query", "POST", "search", { body: { query: "   " } }, 400, "VALIDATION_FAILED", "query"],
      ["k out of range", "POST", "search", { body: { query: "x", k: 0 } }, 400, "VALIDATION_FAILED", "k"],
      ["a fractional k", "POST", "search", { body: { query: "x", k: 2.5 } }, 400, "VALIDATION_FAILED", "k"],
      ["questions_per_chunk out of range", "POST", "generate", { body: { questions_per_chunk: 11 } }, 400, "VALIDATION_FAILED", "questions_per_chunk"],
      ["max_pairs above the server's cap", "POST", "generate", { body: { max_pairs: 5001 } }, 400, "VALIDATION_FAILED", "max_pairs"],
      ["an empty pair list", "POST", "import", { body: { pairs: [] } }, 400, "VALIDATION_FAILED", "pairs"],
      ["a pair with an unknown field", "POST", "import", { body: { pairs: [{ question: "q", chunk_id: "c", user_id: "u" }] } }, 400, "VALIDATION_FAILED", "pairs.0.user_id"],
      ["limit=0", "GET", "runs?limit=0", {}, 400, "VALIDATION_FAILED", "limit"],
      ["limit=abc", "GET", "runs?limit=abc", {}, 400, "VALIDATION_FAILED", "limit"],
      ["offset=-1", "GET", "runs?offset=-1", {}, 400, "VALIDATION_FAILED", "offset"],
      ["an unknown query field", "GET", "runs?user_id=bob", {}, 400, "VALIDATION_FAILED", "user_id"],
      ["a body that is not JSON", "PUT", "settings", { raw: "enabled=true", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["a body in another charset", "PUT", "settings", { raw: '{"enabled":true}', headers: { "content-type": "application/json; charset=latin1" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["an oversized body", "POST", "search", { body: { query: "x".repeat(3000) } }, 413, "PAYLOAD_TOO_LARGE"],
      ["an id with malformed percent-encoding", "GET", "runs/%ZZ", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a job id with an encoded lone surrogate", "GET", "events/stream/%ED%A0%80", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a status id that is not UTF-8", "GET", "status/%FF%FE", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a body that is not the gzip it claims", "POST", "search", { raw: '{"query":"x"}', headers: { "content-type": "application/json", "content-encoding": "gzip" } }, 400, "INVALID_JSON"],
      ["an unknown Content-Encoding", "POST", "search", { raw: '{"query":"x"}', headers: { "content-type": "application/json", "content-encoding": "x-zip" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["a NUL in an imported question", "POST", "import", { raw: '{"pairs":[{"question":"a\\u0000b","chunk_id":"alice-chunk-01"}]}', headers: { "content-type": "application/json" } }, 400, "VALIDATION_FAILED", "pairs.0.question"],
      ["a lone surrogate in a chunk id", "POST", "import", { raw: '{"pairs":[{"question":"q","chunk_id":"\\ud800"}]}', headers: { "content-type": "application/json" } }, 400, "VALIDATION_FAILED", "pairs.0.chunk_id"],
      ["a NUL in an import source", "POST", "import", { body: { pairs: [{ question: "q", chunk_id: "alice-chunk-01" }], source: "chat\u0000" } }, 400, "VALIDATION_FAILED", "source"],
      ["a NUL in a search query", "POST", "search", { body: { query: "a\u0000" } }, 400, "VALIDATION_FAILED", "query"],
      ["DELETE on a route that has none", "DELETE", "settings", {}, 405, "METHOD_NOT_ALLOWED"],
      ["GET on a POST route", "GET", "generate", {}, 405, "METHOD_NOT_ALLOWED"],
    ];

    it.each(cases)("%s", async (_name, method, path, init, status, code, path0) => {
      const ctx = await start(undefined, { bodyLimit: 2048 });
      const res = await ctx.call(method, path, init);
      expect(res.status).toBe(status);
      const body = errorBodySchema.parse(res.json);
      expect(body.error.code).toBe(code);
      if (path0) expect((body.error.details!.issues as { path: string }[]).map((i) => i.path)).toContain(path0);
    });

    it("answers OPTIONS on its routes with 204 and Allow, and says which methods in a 405", async () => {
      const ctx = await start();
      const options = await ctx.call("OPTIONS", "settings");
      expect(options.status).toBe(204);
      expect(options.headers.get("allow")).toBe("GET, HEAD, PUT, OPTIONS");
      const wrong = await ctx.call("PATCH", `runs/${"0b9f3a9e-2c4d-4f6e-8a1b-3c5d7e9f1a2b"}`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(wrong.headers.get("content-type")).toMatch(/^application\/json/);
    });

    it("accepts POST /generate with no body at all, or an empty object", async () => {
      const ctx = await start(createTrainer({ generator: new GatedGenerator(new Gate(false)) }));
      expect((await ctx.call("POST", "generate")).status).toBe(202);
      expect((await ctx.call("POST", "generate", { user: "bob", body: {} })).status).toBe(202);
    });
  });

}
