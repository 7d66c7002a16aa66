import { describe, expect, it } from "vitest";
import type { StartRouter } from "./contract-harness.js";
import { chunkId, createTrainer, Gate, GatedGenerator, questionFor } from "./fixtures.js";

/** Idempotency-Key on POST routes. */
export function idempotencyContract(start: StartRouter): void {
  describe("Idempotency-Key", () => {
    const key = (k: string) => ({ "idempotency-key": k });

    it("replays the first answer for the same key and request, marked Idempotent-Replayed", async () => {
      const gate = new Gate(false);
      const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
      const first = await ctx.call("POST", "generate", { body: { questions_per_chunk: 2 }, headers: key("click-1") });
      const again = await ctx.call("POST", "generate", { body: { questions_per_chunk: 2 }, headers: key("click-1") });
      expect(first.status).toBe(202);
      expect(again).toMatchObject({ status: 202, json: first.json });
      expect(again.json!.joined).toBe(false);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      // A new key is a new request: it joins the running job.
      const other = await ctx.call("POST", "generate", { body: { questions_per_chunk: 2 }, headers: key("click-2") });
      expect(other.json).toMatchObject({ job_id: first.json!.job_id, joined: true });
      gate.open();
      await ctx.trainer.waitForJob({ userId: "alice", jobId: first.json!.job_id });
      // After the job: the key still answers what it answered, a new key learns there is nothing to do.
      expect((await ctx.call("POST", "generate", { body: { questions_per_chunk: 2 }, headers: key("click-1") })).status).toBe(202);
      expect((await ctx.call("POST", "generate", { headers: key("click-3") })).json!.error.code).toBe("NOTHING_TO_GENERATE");
      expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
    });

    it("answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body or route, and 400 for a malformed key", async () => {
      const ctx = await start();
      const chunk = chunkId("alice", 2);
      const pair = { question: questionFor(chunk, 0), chunk_id: chunk };
      expect((await ctx.call("POST", "import", { body: { pairs: [pair] }, headers: key("k1") })).status).toBe(201);
      const reused = await ctx.call("POST", "import", { body: { pairs: [pair, pair] }, headers: key("k1") });
      expect(reused.status).toBe(422);
      expect(reused.json!.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect((await ctx.call("POST", "search", { body: { query: "x" }, headers: key("k1") })).status).toBe(422);
      expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
      const malformed = await ctx.call("POST", "search", { body: { query: "x" }, headers: key("x".repeat(300)) });
      expect(malformed.status).toBe(400);
      expect(malformed.json!.error.details.issues[0].path).toBe("Idempotency-Key");
    });

    it("scopes keys per user, and makes concurrent duplicates wait for the first: one run", async () => {
      const ctx = await start();
      const body = (user: string) => ({ pairs: [0, 1, 2].map((i) => ({ question: questionFor(chunkId(user, i), 0), chunk_id: chunkId(user, i) })) });
      const results = await Promise.all(Array.from({ length: 4 }, () => ctx.call("POST", "import", { body: body("alice"), headers: key("same") })));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(results.map((r) => r.json!.training_run_id)).size).toBe(1);
      expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(3);
      expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
      const bob = await ctx.call("POST", "import", { user: "bob", body: body("bob"), headers: key("same") });
      expect(bob.status).toBe(201);
      expect(bob.json!.training_run_id).not.toBe(results[0]!.json!.training_run_id);
    });

    it("does not replay a 409 that says when to retry: the same key tries again", async () => {
      const gate = new Gate(false);
      const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
      const gen = (await ctx.call("POST", "generate")).json!;
      const chunk = chunkId("alice", 1);
      const body = { pairs: [{ question: questionFor(chunk, 0), chunk_id: chunk }] };
      const busy = await ctx.call("POST", "import", { body, headers: key("import-1") });
      expect(busy.status).toBe(409);
      expect(busy.headers.get("retry-after")).not.toBeNull();
      gate.open();
      await ctx.trainer.waitForJob({ userId: "alice", jobId: gen.job_id });
      const retried = await ctx.call("POST", "import", { body, headers: key("import-1") });
      expect(retried.status).toBe(201);
      expect(retried.headers.get("idempotent-replayed")).toBeNull();
    });
  });

}
