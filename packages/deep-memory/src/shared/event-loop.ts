// The engine's yield (setImmediate, setTimeout in browsers), which training yields with too.
import { yieldToEventLoop } from "@zip/deep-memory-engine";

/**
 * A check to call between small pieces of CPU work (one question's search, one
 * fusion's score): it yields to the event loop once `budgetMs` have passed
 * since the last yield, so a long evaluation never holds a server's other
 * requests for more than that. An `await` alone does not: a promise that is
 * already resolved continues without letting timers or I/O in.
 */
export function eventLoopYielder(budgetMs = 10): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < budgetMs) return;
    await yieldToEventLoop();
    last = performance.now();
  };
}
