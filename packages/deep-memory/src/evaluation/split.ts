import { createHash } from "node:crypto";

/** A stable number in [0, 1) from a string: the same question always lands in the same split. */
export function stableUnit(key: string, seed: number): number {
  const digest = createHash("sha256").update(`${seed}:${key}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/**
 * Deterministic train / held-out split. Items sharing a `groupKey` land on the
 * same side, so near-identical questions cannot leak across the split.
 */
export function deterministicSplit<T>(
  items: readonly T[],
  groupKey: (item: T) => string,
  heldOutFraction: number,
  seed: number,
): { train: T[]; heldOut: T[] } {
  const train: T[] = [];
  const heldOut: T[] = [];
  for (const item of items) (stableUnit(groupKey(item), seed) < heldOutFraction ? heldOut : train).push(item);
  // Tiny sets can hash entirely to one side; move one item so both sides exist.
  if (heldOut.length === 0 && train.length > 1) heldOut.push(train.pop()!);
  if (train.length === 0 && heldOut.length > 1) train.push(heldOut.pop()!);
  return { train, heldOut };
}

/** Normal form used to detect duplicate questions: case, spacing and trailing punctuation ignored. */
export function normalizeQuestion(question: string): string {
  return question.toLowerCase().replace(/\s+/g, " ").replace(/[\s?.!]+$/u, "").trim();
}
