import * as z from "zod";
import { parseOrThrow } from "../errors/validation.js";
import { englishTerms } from "./english-analyzer.js";

export const bm25OptionsSchema = z
  .object({
    /** Term-frequency saturation. 1.5 is bm25s's default (Lucene's is 1.2). */
    k1: z.number().min(0).max(10).default(1.5),
    /** Length normalisation, 0 (none) to 1 (full). */
    b: z.number().min(0).max(1).default(0.75),
    /** Text to terms; defaults to `englishTerms` (Lucene stop words, Porter2 stems). */
    analyzer: z.custom<(text: string) => string[]>((v) => typeof v === "function", "analyzer must be a function").optional(),
  })
  .strict();
export type Bm25Options = z.input<typeof bm25OptionsSchema>;

export interface Bm25Hit {
  id: string;
  score: number;
}

/** One term's postings: document slots and the term's frequency in each, unordered. */
interface Postings {
  slots: Int32Array;
  counts: Float32Array;
  length: number;
}

/**
 * Okapi BM25 over an inverted index held in typed arrays, updated in place as
 * documents are added, replaced or removed (no rebuild). Scores follow bm25s's
 * default ("lucene") variant: idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
 * term weight tf / (tf + k1 (1 - b + b |d| / avgdl)), summed over the query's
 * terms (a repeated query word counts again). A query scores only the
 * postings of its own terms, so cost follows the terms' document frequencies,
 * not the corpus size.
 */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  private readonly analyze: (text: string) => string[];
  private readonly slotOf = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private lengths = new Float64Array(0);
  /** Distinct term ids of each slot, kept so a removal touches only its own postings. */
  private termsOf: (Int32Array | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly termIds = new Map<string, number>();
  private readonly postings: Postings[] = [];
  private totalLength = 0;
  /** k1 (1 - b + b |d| / avgdl) per slot; recomputed on the first search after a change. */
  private norms = new Float64Array(0);
  private normsStale = true;
  private scores = new Float64Array(0);
  private touched = new Int32Array(0);
  private removing = new Uint8Array(0);

  constructor(options: Bm25Options = {}) {
    const resolved = parseOrThrow(bm25OptionsSchema, options, "BM25 options");
    this.k1 = resolved.k1;
    this.b = resolved.b;
    this.analyze = resolved.analyzer ?? englishTerms;
  }

  /** Documents indexed. */
  get size(): number {
    return this.slotOf.size;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Adds documents, replacing any with the same id. */
  upsert(documents: Iterable<{ id: string; text: string }>): void {
    const list = [...documents];
    const replaced = list.filter((d) => this.slotOf.has(d.id)).map((d) => d.id);
    if (replaced.length) this.delete(replaced);
    for (const doc of list) this.add(doc.id, doc.text);
  }

  /** Removes documents by id; unknown ids are ignored. Returns how many were removed. */
  delete(ids: Iterable<string>): number {
    const slots: number[] = [];
    for (const id of ids) {
      const slot = this.slotOf.get(id);
      if (slot === undefined || this.removing[slot]) continue;
      this.removing[slot] = 1;
      slots.push(slot);
    }
    if (!slots.length) return 0;
    // Each affected term's postings are compacted once, however many of its documents go.
    const affected = new Set<number>();
    for (const slot of slots) for (const term of this.termsOf[slot]!) affected.add(term);
    for (const term of affected) {
      const p = this.postings[term]!;
      let w = 0;
      for (let r = 0; r < p.length; r++) {
        const slot = p.slots[r]!;
        if (this.removing[slot]) continue;
        p.slots[w] = slot;
        p.counts[w] = p.counts[r]!;
        w++;
      }
      p.length = w;
    }
    for (const slot of slots) {
      this.removing[slot] = 0;
      this.slotOf.delete(this.ids[slot]!);
      this.totalLength -= this.lengths[slot]!;
      this.ids[slot] = undefined;
      this.termsOf[slot] = undefined;
      this.lengths[slot] = 0;
      this.freeSlots.push(slot);
    }
    this.normsStale = true;
    return slots.length;
  }

  /**
   * The k best documents for a query, best first; documents sharing no term
   * with it are left out. `accept` filters candidates (e.g. by owner) before
   * the top k is taken.
   */
  search(query: string, k: number, accept?: (id: string) => boolean): Bm25Hit[] {
    if (k <= 0 || this.slotOf.size === 0) return [];
    const n = this.slotOf.size;
    if (this.normsStale) this.refreshNorms();
    const { scores, norms, touched } = this;
    let touchedCount = 0;
    for (const term of this.analyze(query)) {
      const id = this.termIds.get(term);
      if (id === undefined) continue;
      const { slots, counts, length } = this.postings[id]!;
      if (length === 0) continue;
      const idf = Math.log(1 + (n - length + 0.5) / (length + 0.5));
      for (let i = 0; i < length; i++) {
        const slot = slots[i]!;
        const tf = counts[i]!;
        // Every contribution is positive, so a zero score marks a slot not seen yet in this query.
        if (scores[slot] === 0) touched[touchedCount++] = slot;
        scores[slot]! += (idf * tf) / (tf + norms[slot]!);
      }
    }
    const hits = this.topK(touchedCount, k, accept);
    for (let i = 0; i < touchedCount; i++) scores[touched[i]!] = 0;
    return hits;
  }

  private add(id: string, text: string): void {
    const counts = new Map<number, number>();
    let length = 0;
    for (const term of this.analyze(text)) {
      let termId = this.termIds.get(term);
      if (termId === undefined) {
        termId = this.postings.length;
        this.termIds.set(term, termId);
        this.postings.push({ slots: new Int32Array(4), counts: new Float32Array(4), length: 0 });
      }
      counts.set(termId, (counts.get(termId) ?? 0) + 1);
      length++;
    }
    const slot = this.freeSlots.pop() ?? this.ids.length;
    if (slot === this.ids.length) {
      this.ids.push(undefined);
      this.termsOf.push(undefined);
      this.ensureSlotCapacity(slot + 1);
    }
    this.ids[slot] = id;
    this.slotOf.set(id, slot);
    this.lengths[slot] = length;
    this.totalLength += length;
    this.termsOf[slot] = Int32Array.from(counts.keys());
    for (const [termId, count] of counts) {
      const p = this.postings[termId]!;
      if (p.length === p.slots.length) {
        const slots = new Int32Array(p.length * 2);
        slots.set(p.slots);
        const grown = new Float32Array(p.length * 2);
        grown.set(p.counts);
        p.slots = slots;
        p.counts = grown;
      }
      p.slots[p.length] = slot;
      p.counts[p.length] = count;
      p.length++;
    }
    this.normsStale = true;
  }

  private refreshNorms(): void {
    const avgdl = this.totalLength / Math.max(1, this.slotOf.size) || 1;
    for (let s = 0; s < this.ids.length; s++) this.norms[s] = this.k1 * (1 - this.b + (this.b * this.lengths[s]!) / avgdl);
    this.normsStale = false;
  }

  /** The k highest-scoring touched slots (a bounded min-heap), best first; ties by id. */
  private topK(touchedCount: number, k: number, accept?: (id: string) => boolean): Bm25Hit[] {
    const heapSlots: number[] = [];
    const worse = (a: number, b: number) => {
      const sa = this.scores[a]!;
      const sb = this.scores[b]!;
      return sa < sb || (sa === sb && this.ids[a]! > this.ids[b]!);
    };
    for (let i = 0; i < touchedCount; i++) {
      const slot = this.touched[i]!;
      if (heapSlots.length === k && !worse(heapSlots[0]!, slot)) continue;
      if (accept && !accept(this.ids[slot]!)) continue;
      if (heapSlots.length < k) {
        heapSlots.push(slot);
        siftUp(heapSlots, heapSlots.length - 1, worse);
      } else {
        heapSlots[0] = slot;
        siftDown(heapSlots, 0, worse);
      }
    }
    return heapSlots
      .sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0))
      .map((slot) => ({ id: this.ids[slot]!, score: this.scores[slot]! }));
  }

  private ensureSlotCapacity(count: number): void {
    if (count <= this.lengths.length) return;
    const capacity = Math.max(count, this.lengths.length * 2, 64);
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.lengths = grow(this.lengths, (n) => new Float64Array(n));
    this.norms = grow(this.norms, (n) => new Float64Array(n));
    this.scores = grow(this.scores, (n) => new Float64Array(n));
    this.touched = grow(this.touched, (n) => new Int32Array(n));
    this.removing = grow(this.removing, (n) => new Uint8Array(n));
  }
}

function siftUp(heap: number[], i: number, worse: (a: number, b: number) => boolean): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(heap[i]!, heap[parent]!)) return;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function siftDown(heap: number[], i: number, worse: (a: number, b: number) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let least = i;
    if (l < heap.length && worse(heap[l]!, heap[least]!)) least = l;
    if (r < heap.length && worse(heap[r]!, heap[least]!)) least = r;
    if (least === i) return;
    [heap[i], heap[least]] = [heap[least]!, heap[i]!];
    i = least;
  }
}
