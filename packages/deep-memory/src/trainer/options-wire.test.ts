import {
  generateRequestSchema,
  importPairsRequestSchema,
  LIMITS,
  listRunsQuerySchema,
  searchRequestSchema,
  trainRequestSchema,
  updateSettingsRequestSchema,
  wireSchema,
} from "@zip/deep-memory-protocol";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  generateInputSchema,
  importPairsInputSchema,
  listRunsInputSchema,
  searchInputSchema,
  trainInputSchema,
  updateSettingsInputSchema,
} from "./options.js";

/*
 * The HTTP API's request schemas and the trainer's input schemas must accept
 * the same values: a request the API lets through must not fail in the
 * trainer, and the API must not refuse what the trainer takes. These limits
 * had drifted before (question 2,000 vs 500, chunk id 256 vs 512 bytes, k 100
 * vs 1,000, pairs 100k vs 1M).
 */

// Descriptions are documentation, not limits: left out of the comparison.
const json = (schema: z.ZodType): unknown =>
  JSON.parse(JSON.stringify(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }), (key, value: unknown) => (key === "description" ? undefined : value)));

describe("wire request schemas agree with the trainer's input schemas", () => {
  it.each([
    ["generate", generateInputSchema.omit({ userId: true, concurrency: true, delayMs: true, model: true }), generateRequestSchema],
    ["train", trainInputSchema.omit({ userId: true }), trainRequestSchema],
    // The trainer defaults `source` ("import"); on the wire it is optional. Same limits either way.
    ["import", importPairsInputSchema.omit({ userId: true }).extend({ source: importPairsInputSchema.shape.source.unwrap().optional() }), importPairsRequestSchema],
    ["search", searchInputSchema.omit({ userId: true, deepMemory: true }), searchRequestSchema],
    ["settings", updateSettingsInputSchema.omit({ userId: true }), updateSettingsRequestSchema],
  ] as const)("%s: same fields, types and limits once keys are in wire case", (_name, core, wire) => {
    expect(json(wire)).toEqual(json(wireSchema(core as z.ZodObject)));
  });

  it("the run list query has the trainer's limits (as text to coerce)", () => {
    const core = json(listRunsInputSchema.omit({ userId: true })) as { properties: Record<string, Record<string, unknown>> };
    const wire = json(listRunsQuerySchema) as { properties: Record<string, Record<string, unknown>> };
    expect(wire.properties).toEqual(core.properties);
  });

  const both = (core: z.ZodType, coreValue: unknown, wire: z.ZodType, wireValue: unknown) => [core.safeParse(coreValue).success, wire.safeParse(wireValue).success];

  it("question length: 500 characters on both sides, 501 refused by both", () => {
    const at = (question: string) => both(importPairsInputSchema, { userId: "u", pairs: [{ question, chunkId: "c" }] }, importPairsRequestSchema, { pairs: [{ question, chunk_id: "c" }] });
    expect(LIMITS.questionLength).toBe(500);
    expect(at("q".repeat(500))).toEqual([true, true]);
    expect(at("q".repeat(501))).toEqual([false, false]);
  });

  it("chunk id: 512 bytes of UTF-8 on both sides, 514 refused by both", () => {
    const at = (chunkId: string) => both(importPairsInputSchema, { userId: "u", pairs: [{ question: "q", chunkId }] }, importPairsRequestSchema, { pairs: [{ question: "q", chunk_id: chunkId }] });
    expect(at("é".repeat(256))).toEqual([true, true]); // 512 bytes, 256 characters
    expect(at("é".repeat(257))).toEqual([false, false]);
    expect(at("c".repeat(512))).toEqual([true, true]);
  });

  it("k: 1,000 on both sides, 1,001 refused by both", () => {
    const at = (k: number) => both(searchInputSchema, { userId: "u", query: "x", k }, searchRequestSchema, { query: "x", k });
    expect(at(1000)).toEqual([true, true]);
    expect(at(1001)).toEqual([false, false]);
  });

  it("pairs per import: 1,000,000 on both sides", () => {
    const maxItems = (schema: z.ZodType) => (json(schema) as { properties: { pairs: { maxItems: number } } }).properties.pairs.maxItems;
    expect(maxItems(importPairsRequestSchema)).toBe(1_000_000);
    expect(maxItems(importPairsInputSchema)).toBe(1_000_000);
  });

  it("a run id the trainer refuses is refused on the wire, under the wire name", () => {
    const wire = trainRequestSchema.safeParse({ training_run_id: "not-a-uuid" });
    expect(trainInputSchema.safeParse({ userId: "u", runId: "not-a-uuid" }).success).toBe(false);
    expect(wire.success).toBe(false);
    expect(wire.error!.issues[0]!.path).toEqual(["training_run_id"]);
  });
});
