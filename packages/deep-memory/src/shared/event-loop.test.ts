import { describe, expect, it } from "vitest";
import { eventLoopYielder } from "./event-loop.js";

/** Holds the thread for `ms`, as a long search or fusion does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("eventLoopYielder", () => {
  it("lets work waiting on the event loop run once its budget has passed, and costs nothing before", async () => {
    const yieldSometimes = eventLoopYielder(30);
    let fired = false;
    // Queued before the yield (as an I/O callback is): it runs on the yield's turn of the loop.
    setImmediate(() => (fired = true));
    busy(5);
    await yieldSometimes();
    // Within the budget: the call returns without a turn of the event loop, so the queued work has not run.
    expect(fired).toBe(false);
    busy(40);
    await yieldSometimes();
    expect(fired).toBe(true);
  });
});
