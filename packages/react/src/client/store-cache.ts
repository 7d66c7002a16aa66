import type { Store } from "./store.js";

/** Five minutes, as TanStack Query's gcTime. */
export const DEFAULT_GC_TIME_MS = 5 * 60_000;

interface Entry<S> {
  store: S;
  timer: ReturnType<typeof setTimeout> | null;
  stopWatching: () => void;
}

/**
 * The client's stores by key (a run, a job, a page of runs), each forgotten
 * `gcTimeMs` after its last subscriber left (or after it was made, when
 * nobody ever subscribed: a server render), as TanStack Query's gcTime: a
 * long-lived admin screen that opens many runs and jobs keeps only what is on
 * screen or was recently. A store forgotten while something still holds it
 * keeps working; the next lookup of its key makes a fresh one.
 */
export class StoreCache<K, S extends Store<unknown>> {
  private readonly entries = new Map<K, Entry<S>>();

  constructor(private readonly gcTimeMs: number = DEFAULT_GC_TIME_MS) {}

  get(key: K, create: () => S): S {
    const existing = this.entries.get(key);
    if (existing) return existing.store;
    const store = create();
    const entry: Entry<S> = {
      store,
      timer: null,
      stopWatching: store.onActivity((active) => (active ? this.keep(entry) : this.schedule(key, entry))),
    };
    this.entries.set(key, entry);
    if (store.subscriberCount === 0) this.schedule(key, entry);
    return store;
  }

  peek(key: K): S | undefined {
    return this.entries.get(key)?.store;
  }

  values(): S[] {
    return [...this.entries.values()].map((entry) => entry.store);
  }

  get size(): number {
    return this.entries.size;
  }

  private keep(entry: Entry<S>): void {
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = null;
  }

  private schedule(key: K, entry: Entry<S>): void {
    this.keep(entry);
    if (!Number.isFinite(this.gcTimeMs)) return;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.store.subscriberCount > 0 || this.entries.get(key) !== entry) return;
      entry.stopWatching();
      this.entries.delete(key);
    }, this.gcTimeMs);
    // Never keeps a Node process (a script, a test, a server render) alive.
    (entry.timer as { unref?: () => void }).unref?.();
  }
}
