import { DeepMemoryTrainer, InMemoryVectorStore } from "@zip/deep-memory";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { ScriptedGenerator, syntheticCorpus, unusedEngine } from "@zip/deep-memory/testing";
import { parseSseStream } from "@zip/deep-memory-protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { createDeepMemoryHandler } from "./index.js";

const userId = "user-log";

/** The frames of an SSE body, as { id, event, data }. */
async function frames(response: Response): Promise<{ id: number; type: string; data: Record<string, unknown> }[]> {
  const out: { id: number; type: string; data: Record<string, unknown> }[] = [];
  for await (const message of parseSseStream(response.body!)) out.push({ id: Number(message.id), type: message.event, data: JSON.parse(message.data) as Record<string, unknown> });
  return out;
}

describe("the event stream with a shared job event log", { timeout: 60_000 }, () => {
  let store: PGliteTrainingStore;
  beforeAll(async () => {
    store = await PGliteTrainingStore.open({ dataDir: "memory://" });
    return () => store.close();
  }, 60_000);

  function trainer(instanceId: string) {
    const corpus = syntheticCorpus({ chunks: 120, dims: 8, seed: 4 });
    return new DeepMemoryTrainer({
      vectorStore: new InMemoryVectorStore(corpus.documents),
      store,
      embedder: corpus.embedder,
      generator: new ScriptedGenerator(corpus.questionFor),
      engine: unusedEngine,
      events: store.jobEventLog({ pollMs: 50 }),
      instanceId,
      options: { questionsPerChunk: 2, progressIntervalMs: 100 },
    });
  }

  it("a replica that did not run the job streams it live from the log, resumes after Last-Event-ID, and answers 204 past the end", async () => {
    const owner = trainer("owner");
    const replica = trainer("replica");
    const handler = createDeepMemoryHandler({ trainer: replica, getUserId: () => userId });
    const { jobId } = await owner.generate({ userId });
    const url = `http://localhost/v1/api/deep-memory/events/stream/${jobId}`;
    const events = await frames(await handler(new Request(url)));
    expect(events[0]).toMatchObject({ type: "started" });
    expect(events.at(-1)).toMatchObject({ type: "completed", data: { processed_chunks: 120 } });
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));

    // The job's own replica serves the same seqs from the log.
    const fromOwner = await frames(await createDeepMemoryHandler({ trainer: owner, getUserId: () => userId })(new Request(url)));
    expect(fromOwner.at(-1)).toEqual(events.at(-1));
    const tail = await frames(await handler(new Request(url, { headers: { "last-event-id": String(events[0]!.id) } })));
    expect(tail.filter((e) => e.type !== "progress")).toEqual(events.slice(1).filter((e) => e.type !== "progress"));
    const past = await handler(new Request(url, { headers: { "last-event-id": String(events.at(-1)!.id) } }));
    expect(past.status).toBe(204);
    const other = await createDeepMemoryHandler({ trainer: replica, getUserId: () => "someone-else" })(new Request(url));
    expect(other.status).toBe(404);
    await owner.close();
    await replica.close();
  });
});
