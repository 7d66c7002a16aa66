/** Lets timers and I/O (an abort, a progress write) run between chunks of CPU work; setTimeout where setImmediate is missing (browsers). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
