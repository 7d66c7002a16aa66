import { describe, expect, it } from "vitest";
import type { JobEvent } from "./events.js";
import { JobRegistry } from "./job-registry.js";

const progress = (processed: number) =>
  ({ type: "progress", phase: "generating", processed, total: 10, percent: processed * 10, pairCount: processed, skippedChunks: 0 }) as const;

function registryWithJob() {
  const registry = new JobRegistry();
  registry.create({ jobId: "j1", runId: "r1", userId: "alice", kind: "generate" });
  return registry;
}

describe("JobRegistry", () => {
  it("numbers events per job and stamps job, run and kind", () => {
    const registry = registryWithJob();
    const a = registry.emit("j1", { type: "started", totalChunks: 10, resumed: false });
    const b = registry.emit("j1", progress(1));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(b).toMatchObject({ jobId: "j1", runId: "r1", kind: "generate", type: "progress" });
    expect(Number.isNaN(Date.parse(b.at))).toBe(false);
  });

  it("replays what a late subscriber missed, then delivers live events until the terminal one", () => {
    const registry = registryWithJob();
    registry.emit("j1", { type: "started", totalChunks: 10, resumed: false });
    registry.emit("j1", progress(1));
    registry.emit("j1", progress(2));
    const got: JobEvent[] = [];
    const unsubscribe = registry.subscribe("alice", "j1", (e) => got.push(e), { after: 1 });
    expect(got.map((e) => e.seq)).toEqual([2, 3]);
    expect(registry.listenerCount("j1")).toBe(1);
    registry.emit("j1", progress(3));
    registry.emit("j1", { type: "completed", status: "generated", pairCount: 3, processedChunks: 3, totalChunks: 3, capReached: false });
    expect(got.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(registry.listenerCount("j1")).toBe(0);
    expect(registry.get("alice", "j1")?.active).toBe(false);
    expect(() => registry.emit("j1", progress(4))).toThrow();
    unsubscribe();
    // A subscriber after the end gets the history and no live listener.
    const late: JobEvent[] = [];
    registry.subscribe("alice", "j1", (e) => late.push(e));
    expect(late.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(registry.listenerCount("j1")).toBe(0);
  });

  it("applies `after` to live events too", () => {
    const registry = registryWithJob();
    registry.emit("j1", { type: "started", totalChunks: 10, resumed: false });
    const got: number[] = [];
    registry.subscribe("alice", "j1", (e) => got.push(e.seq), { after: 3 });
    registry.emit("j1", progress(1));
    registry.emit("j1", progress(2));
    registry.emit("j1", progress(3));
    expect(got).toEqual([4]);
  });

  it("unsubscribing releases the listener", () => {
    const registry = registryWithJob();
    const off = registry.subscribe("alice", "j1", () => {});
    off();
    off();
    expect(registry.listenerCount("j1")).toBe(0);
  });

  it("hides other users' jobs", () => {
    const registry = registryWithJob();
    expect(registry.get("bob", "j1")).toBeNull();
    expect(() => registry.subscribe("bob", "j1", () => {})).toThrowError(expect.objectContaining({ code: "NOT_FOUND" }));
    expect(() => registry.history("bob", "j1")).toThrowError(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("drops the oldest progress events past the cap but keeps started and terminal events", () => {
    const registry = new JobRegistry({ maxEventsPerJob: 5 });
    registry.create({ jobId: "j", runId: "r", userId: "u", kind: "generate" });
    registry.emit("j", { type: "started", totalChunks: 10, resumed: false });
    for (let i = 1; i <= 8; i++) registry.emit("j", progress(i));
    // While it runs: at most the cap, the oldest progress dropped first.
    const running = registry.history("u", "j");
    expect(running.length).toBeLessThanOrEqual(5);
    expect(running[0]?.type).toBe("started");
    expect(running.at(-1)).toMatchObject({ type: "progress", processed: 8 });
    registry.emit("j", { type: "failed", error: { code: "INTERNAL", message: "boom" } });
    const history = registry.history("u", "j");
    expect(history.map((e) => e.type)).toEqual(["started", "progress", "progress", "progress", "failed"]);
    expect(history.at(-1)?.seq).toBe(10);
  });

  it("stays bounded when a job skips more chunks than the cap: the oldest skips go, started and the latest events stay", () => {
    const registry = new JobRegistry({ maxEventsPerJob: 100 });
    registry.create({ jobId: "j", runId: "r", userId: "u", kind: "generate" });
    registry.emit("j", { type: "started", totalChunks: 10_000, resumed: false });
    for (let i = 1; i <= 10_000; i++) {
      registry.emit("j", { type: "chunk_skipped", chunkId: `c-${i}`, reason: "empty text" });
      registry.emit("j", progress(i));
    }
    const running = registry.history("u", "j");
    expect(running.length).toBeLessThanOrEqual(100);
    expect(running[0]?.type).toBe("started");
    expect(running.at(-1)).toMatchObject({ type: "progress", processed: 10_000, seq: 20_001 });
    expect(running.findLast((e) => e.type === "chunk_skipped")).toMatchObject({ chunkId: "c-10000" });
    registry.emit("j", { type: "completed", status: "generated", pairCount: 0, processedChunks: 10_000, totalChunks: 10_000, capReached: false });
    const done = registry.history("u", "j");
    expect(done.length).toBeLessThanOrEqual(100);
    expect(done.at(-1)?.type).toBe("completed");
    // Seqs stay strictly increasing, so Last-Event-ID resumes still work.
    expect(done.every((e, i) => i === 0 || e.seq > done[i - 1]!.seq)).toBe(true);
  });

  it("older finished jobs keep their facts and their last progress event only, with their seqs", () => {
    const registry = new JobRegistry({ fullHistoryJobs: 1 });
    registry.create({ jobId: "j1", runId: "r1", userId: "alice", kind: "generate" });
    registry.emit("j1", { type: "started", totalChunks: 10, resumed: false });
    for (let i = 1; i <= 1000; i++) {
      registry.emit("j1", progress(i));
      if (i === 500) registry.emit("j1", { type: "chunk_skipped", chunkId: "c-500", reason: "empty" });
    }
    registry.emit("j1", { type: "completed", status: "generated", pairCount: 3, processedChunks: 10, totalChunks: 10, capReached: false });
    // The most recent finished job keeps everything.
    expect(registry.history("alice", "j1")).toHaveLength(1003);
    registry.create({ jobId: "j2", runId: "r2", userId: "alice", kind: "train" });
    registry.emit("j2", { type: "failed", error: { code: "INTERNAL", message: "x" } });
    const history = registry.history("alice", "j1");
    expect(history.map((e) => [e.type, e.seq])).toEqual([
      ["started", 1],
      ["chunk_skipped", 502],
      ["progress", 1002],
      ["completed", 1003],
    ]);
    // A client that saw seq 700 resumes with where progress ended, then the end.
    expect(registry.history("alice", "j1", 700).map((e) => e.seq)).toEqual([1002, 1003]);
  });

  it("forgets the oldest finished jobs beyond the limit", () => {
    const registry = new JobRegistry({ maxFinishedJobs: 2 });
    for (const id of ["a", "b", "c"]) {
      registry.create({ jobId: id, runId: id, userId: "u", kind: "train" });
      registry.emit(id, { type: "failed", error: { code: "INTERNAL", message: "x" } });
    }
    expect(registry.get("u", "a")).toBeNull();
    expect(registry.get("u", "c")).not.toBeNull();
  });
});
