import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE_URL } from "../test-utils/fake-api.js";
import { setupFakeApi } from "../test-utils/msw.js";
import { createDeepMemoryClient } from "./client.js";

const ctx = setupFakeApi();

afterEach(() => {
  vi.useRealTimers();
});

/** Fake only the timers the cache uses, once a store's data has arrived over the (real) fake API. */
function fakeGcTimers() {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
}

async function settled(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

/** A client collecting after 1 s, and a run's store watched until its data arrived; `stop` ends the watch. */
async function watchedRun() {
  const run = ctx.api.createRun({ status: "generated" });
  const client = createDeepMemoryClient({ baseUrl: BASE_URL, gcTimeMs: 1000 });
  const store = client.runStore(run.id);
  const stop = store.subscribe(() => {});
  await settled(() => store.getSnapshot().status === "success");
  return { run, client, store, stop };
}

describe("client stores are collected gcTimeMs after nobody watches them", () => {
  it("keeps a watched run, keeps an unwatched one for gcTimeMs, then forgets it", async () => {
    const { run, client, store, stop } = await watchedRun();

    fakeGcTimers();
    vi.advanceTimersByTime(5000);
    expect(client.runStore(run.id)).toBe(store); // watched: never collected

    stop();
    await Promise.resolve(); // the store goes idle a microtask after its last subscriber left
    vi.advanceTimersByTime(999);
    expect(client.runStore(run.id)).toBe(store);
    expect(client.runStore(run.id).getSnapshot().data?.id).toBe(run.id); // still cached
    vi.advanceTimersByTime(1);
    const fresh = client.runStore(run.id);
    expect(fresh).not.toBe(store);
    expect(fresh.getSnapshot().status).toBe("pending");
  });

  it("a store watched again within gcTimeMs is kept; one never watched (a server render) is forgotten too", async () => {
    const { run, client, store, stop } = await watchedRun();
    fakeGcTimers();
    stop();
    await Promise.resolve();
    vi.advanceTimersByTime(600);
    const again = store.subscribe(() => {});
    vi.advanceTimersByTime(5000);
    expect(client.runStore(run.id)).toBe(store);
    again();

    const unwatched = client.jobStream("job-never-watched");
    const page = client.runsStore({ limit: 5 });
    vi.advanceTimersByTime(1000);
    expect(client.jobStream("job-never-watched")).not.toBe(unwatched);
    expect(client.runsStore({ limit: 5 })).not.toBe(page);
  });

  it("gcTimeMs: Infinity keeps every store", async () => {
    fakeGcTimers();
    const client = createDeepMemoryClient({ baseUrl: BASE_URL, gcTimeMs: Number.POSITIVE_INFINITY });
    const store = client.runStore("some-run");
    vi.advanceTimersByTime(24 * 3600_000);
    expect(client.runStore("some-run")).toBe(store);
  });
});
