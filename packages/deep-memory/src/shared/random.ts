/**
 * Seeded randomness and string hashing shared by everything that must be
 * reproducible: the same seed gives the same pseudo-queries, splits and models
 * on every run and platform.
 */

/** mulberry32: a small, fast 32-bit generator; returns uniform numbers in [0, 1). The engine's, so both draw alike. */
export { mulberry32 } from "@zip/deep-memory-engine";

/** FNV-1a of a string: stable across runs and platforms, unlike anything based on object identity. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
