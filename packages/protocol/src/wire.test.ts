import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as z from "zod";
import type { RunMetrics } from "./domain/metrics.js";
import { trainingRunSchema, type TrainingRun } from "./domain/run.js";
import type { JobEvent } from "./domain/events.js";
import {
  errorBodySchema,
  generateRequestSchema,
  jobEventsQuerySchema,
  jobWireEventSchema,
  listRunsQuerySchema,
  openApiDocument,
  runWireSchema,
  snakeCase,
  toWire,
  toWireJobEvent,
  wireSchema,
  type JobWireEvent,
  type SnakeCase,
} from "./index.js";

const metrics: RunMetrics = {
  heldOut: { withModel: { "recall@10": 0.9 }, withoutModel: { "recall@10": 0.5 }, queryCount: 12, topK: [1, 10] },
  trainPairs: 100,
  heldOutPairs: 12,
  recallAt10Gain: 0.4,
  verdict: "improved",
  reason: "better",
  training: {
    engine: "e",
    epochs: 3,
    bestEpoch: 2,
    trainQueries: 90,
    validationQueries: 10,
    baselineValidationRecallAt10: 0.5,
    validationRecallAt10: 0.8,
    wallMs: 12,
  },
};

describe("snake_case keys", () => {
  it("puts an underscore before capitals and digit runs", () => {
    expect(snakeCase("recallAt10Gain")).toBe("recall_at_10_gain");
    expect(snakeCase("validationRecallAt10")).toBe("validation_recall_at_10");
    expect(snakeCase("pairCount")).toBe("pair_count");
    expect(snakeCase("seq")).toBe("seq");
    expectTypeOf<SnakeCase<"recallAt10Gain">>().toEqualTypeOf<"recall_at_10_gain">();
    expectTypeOf<SnakeCase<"baselineValidationRecallAt10">>().toEqualTypeOf<"baseline_validation_recall_at_10">();
  });
});

describe("wire schemas derived from domain schemas", () => {
  it("a run on the wire has snake_case keys, ISO dates, and no owner or lease fields", () => {
    const run: TrainingRun = {
      id: "r1",
      userId: "secret-user",
      status: "completed",
      totalChunks: 3,
      processedChunks: 3,
      skippedChunks: 0,
      existingChunks: 1,
      pairCount: 12,
      duplicatesRemoved: 1,
      capReached: false,
      generation: { questionsPerChunk: 4, maxPairs: 100, model: "m" },
      metrics,
      error: null,
      failedPhase: null,
      generateJobId: "g",
      trainJobId: "t",
      leaseOwner: "host:1",
      leaseExpiresAt: new Date(0),
      createdAt: new Date("2026-01-02T03:04:05.000Z"),
      updatedAt: new Date("2026-01-02T03:04:06.000Z"),
      generatedAt: null,
      completedAt: new Date("2026-01-02T03:04:07.000Z"),
    };
    const wire = toWire(trainingRunSchema.omit({ userId: true, leaseOwner: true, leaseExpiresAt: true }), run);
    expect(runWireSchema.parse(wire)).toEqual(wire);
    expect(wire).toMatchObject({
      id: "r1",
      pair_count: 12,
      generation: { questions_per_chunk: 4, max_pairs: 100, model: "m" },
      created_at: "2026-01-02T03:04:05.000Z",
      generated_at: null,
      metrics: { held_out: { with_model: { "recall@10": 0.9 }, query_count: 12 }, recall_at_10_gain: 0.4 },
    });
    const text = JSON.stringify(wire);
    expect(text).not.toContain("secret-user");
    expect(text).not.toContain("lease");
    expect(text).not.toMatch(/"[a-z]+[A-Z]/); // no camelCase key anywhere
  });

  it("keeps record keys (metric names) as they are", () => {
    const schema = wireSchema(z.object({ scoreTable: z.record(z.string(), z.number()) }));
    expect(toWire(z.object({ scoreTable: z.record(z.string(), z.number()) }), { scoreTable: { "ndcg@10": 1, fooBar: 2 } })).toEqual({
      score_table: { "ndcg@10": 1, fooBar: 2 },
    });
    expect(schema.parse({ score_table: { "ndcg@10": 1 } })).toEqual({ score_table: { "ndcg@10": 1 } });
  });
});

describe("job events on the wire", () => {
  const base = { seq: 4, jobId: "j", runId: "r", kind: "train" as const, at: "2026-01-01T00:00:00.000Z" };
  const events: JobEvent[] = [
    { ...base, type: "started", totalChunks: 5, resumed: true },
    { ...base, type: "progress", phase: "training", processed: 1, total: 2, percent: 55, pairCount: 9, skippedChunks: 1, epoch: 1, loss: 0.3, validationRecallAt10: 0.7 },
    { ...base, type: "chunk_skipped", chunkId: "c", reason: "empty text" },
    { ...base, type: "completed", status: "completed", pairCount: 9, processedChunks: 5, totalChunks: 5, capReached: false, metrics },
    { ...base, type: "failed", error: { code: "TRAINING_FAILED", message: "no" } },
  ];

  it("converts every core event type and the result validates against the wire union", () => {
    for (const event of events) {
      const wire = toWireJobEvent(event);
      expect(jobWireEventSchema.parse(wire)).toEqual(wire);
      expect(wire).toMatchObject({ seq: 4, job_id: "j", training_run_id: "r", type: event.type });
      expect(JSON.stringify(wire)).not.toMatch(/"[a-z]+[A-Z]\w*":/);
    }
    expect(toWireJobEvent(events[1]!)).toMatchObject({ validation_recall_at_10: 0.7, pair_count: 9 });
    expect(toWireJobEvent(events[3]!)).toMatchObject({ metrics: { recall_at_10_gain: 0.4, verdict: "improved" } });
  });

  it("covers every type of the core union (a new core event type fails here)", () => {
    type CoreTypes = JobEvent["type"];
    expectTypeOf<JobWireEvent["type"]>().toEqualTypeOf<CoreTypes>();
    expectTypeOf<Extract<JobWireEvent, { type: "progress" }>>().toHaveProperty("skipped_chunks");
  });
});

describe("request schemas", () => {
  it("reject unknown fields such as a user_id", () => {
    expect(generateRequestSchema.safeParse({ user_id: "someone" }).success).toBe(false);
    expect(listRunsQuerySchema.safeParse({ user_id: "someone" }).success).toBe(false);
  });

  it("coerce query strings and reject junk", () => {
    expect(listRunsQuerySchema.parse({ limit: "5" })).toEqual({ limit: 5, offset: 0 });
    expect(listRunsQuerySchema.safeParse({ limit: "abc" }).success).toBe(false);
    expect(listRunsQuerySchema.safeParse({ limit: "500" }).success).toBe(false);
    expect(jobEventsQuerySchema.parse({ last_event_id: "12" })).toEqual({ last_event_id: 12 });
    expect(jobEventsQuerySchema.safeParse({ last_event_id: "-1" }).success).toBe(false);
  });

  it("error bodies have a code and a message", () => {
    expect(errorBodySchema.safeParse({ error: { code: "NOT_FOUND", message: "x" } }).success).toBe(true);
    expect(errorBodySchema.safeParse({ error: { message: "x" } }).success).toBe(false);
  });
});

describe("openApiDocument", () => {
  const doc = openApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
  };

  it("lists every route under the base path with its success status", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/v1/api/deep-memory/events/stream/{jobId}",
        "/v1/api/deep-memory/generate",
        "/v1/api/deep-memory/import",
        "/v1/api/deep-memory/jobs/{jobId}/cancel",
        "/v1/api/deep-memory/runs",
        "/v1/api/deep-memory/runs/{runId}",
        "/v1/api/deep-memory/search",
        "/v1/api/deep-memory/settings",
        "/v1/api/deep-memory/status/{id}",
        "/v1/api/deep-memory/train",
      ].sort(),
    );
    expect(Object.keys(doc.paths["/v1/api/deep-memory/generate"]!.post!.responses)).toContain("202");
    expect(Object.keys(doc.paths["/v1/api/deep-memory/jobs/{jobId}/cancel"]!.post!.responses)).toEqual(expect.arrayContaining(["202", "404", "409"]));
    expect(Object.keys(doc.paths["/v1/api/deep-memory/settings"]!)).toEqual(["get", "put"]);
  });

  it("describes request bodies as clients send them and responses as servers send them", () => {
    const search = doc.components.schemas.SearchRequest!;
    expect(search.required).toEqual(["query"]); // k has a default, so clients may leave it out
    expect(Object.keys(doc.components.schemas.GenerateResponse!.properties!)).toContain("training_run_id");
    expect(doc.components.schemas.Run!.properties).not.toHaveProperty("user_id");
  });

  it("can put the event stream under a separate mount point", () => {
    const split = openApiDocument({ eventsBasePath: "/v1/api/events" }) as typeof doc;
    expect(split.paths).toHaveProperty(["/v1/api/events/stream/{jobId}"]);
    expect(split.paths["/v1/api/events/stream/{jobId}"]!.get!.parameters.map((p) => p.name)).toEqual(["jobId", "last_event_id", "lastEventId", "Last-Event-ID"]);
  });
});

describe("browser safety", () => {
  it("the protocol module imports nothing from Node or from the trainer, transitively", () => {
    const root = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const match of source.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        const spec = match[1]!;
        if (/^\s*(?:import|export)\s+type\s/.test(match[0])) continue;
        if (spec.startsWith(".")) visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
        else bare.add(spec);
      }
    };
    visit(join(root, "index.ts"));
    expect([...bare]).toEqual(["zod"]);
    const files = [...seen].map((f) => f.slice(resolve(root, "..").length + 1));
    expect(files.filter((f) => /^(trainer|adapters|retry|test-utils)\//.test(f))).toEqual([]);
  });
});
