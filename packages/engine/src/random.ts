/** mulberry32: a small, fast 32-bit generator; returns uniform numbers in [0, 1). The core's seeded randomness uses it too. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A small seeded generator (mulberry32) so training is reproducible: the same
 * seed gives the same split, initial weights, batch order and model.
 */
export class SeededRandom {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // Mix the seed so nearby seeds (0, 1, 2) start far apart.
    this.next = mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}
