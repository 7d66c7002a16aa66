import type { QueryTransform } from "../ports/deep-memory-engine.js";

/** Loaded transforms by (user, run), least recently used evicted first. */
export class ModelCache {
  private readonly entries = new Map<string, QueryTransform>();
  constructor(private readonly capacity = 64) {}

  get(userId: string, runId: string): QueryTransform | undefined {
    const key = `${userId}\0${runId}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(userId: string, runId: string, transform: QueryTransform): void {
    const key = `${userId}\0${runId}`;
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, transform);
  }

  get size(): number {
    return this.entries.size;
  }
}
