/**
 * The question memory's section of a model's weights (layouts 2 and 3 of
 * residual-transform.ts): how a QuestionMemory is written, and read back
 * with every field checked, since the bytes come from storage.
 *
 * Section layout (little-endian): key count, value count, neighbours
 * (uint32 each), temperature, weight, probe (float32), key scales and value
 * scales (float32), each key's value row (uint32), key and value rows as
 * int8, then the list count (uint32, 0: no index) and, with lists, their
 * centroids (float32) and key offsets (uint32, list count + 1). A gated
 * memory (model layout 3) has the threshold (float32) after the probe.
 */
import { ValidationError } from "./errors.js";
import type { InvertedLists } from "./memory-index.js";
import { QuestionMemory } from "./question-memory.js";

/** Byte length of the memory's serialised section. */
export function memorySectionBytes(memory: QuestionMemory): number {
  const { dimensions: d, keyCount, valueCount, lists } = memory;
  const listCount = lists ? lists.start.length - 1 : 0;
  return headerBytes(memory.gated) + (keyCount + valueCount) * (4 + d) + 4 * keyCount + 4 + listCount * 4 * d + (listCount > 0 ? 4 * (listCount + 1) : 0);
}

/** Writes the memory's section at `offset` (`memorySectionBytes` long); returns the offset after it. */
export function writeMemorySection(memory: QuestionMemory, view: DataView, offset: number): number {
  const { neighbours, temperature, weight, probe, threshold } = memory.parameters;
  const { keys, values, valueOf, lists } = memory.contents();
  view.setUint32(offset, memory.keyCount, true);
  view.setUint32(offset + 4, memory.valueCount, true);
  view.setUint32(offset + 8, neighbours, true);
  view.setFloat32(offset + 12, temperature, true);
  view.setFloat32(offset + 16, weight, true);
  view.setFloat32(offset + 20, probe, true);
  if (memory.gated) view.setFloat32(offset + 24, threshold, true);
  let at = offset + headerBytes(memory.gated);
  for (const scales of [keys.scales, values.scales]) {
    for (const s of scales) at = setFloat32(view, at, s);
  }
  for (const v of valueOf) at = setUint32(view, at, v);
  for (const q of [keys.codes, values.codes]) {
    new Int8Array(view.buffer, view.byteOffset + at, q.length).set(q);
    at += q.length;
  }
  const listCount = lists ? lists.start.length - 1 : 0;
  view.setUint32(at, listCount, true);
  at += 4;
  if (lists) {
    for (const c of lists.centroids) at = setFloat32(view, at, c);
    for (const o of lists.start) at = setUint32(view, at, o);
  }
  return at;
}

/** Reads a section written by `writeMemorySection` (`gated`: model layout 3); ValidationError on anything inconsistent. Returns the memory and the offset after it. */
export function readMemorySection(view: DataView, offset: number, d: number, gated = false): { memory: QuestionMemory; end: number } {
  const sectionHeaderBytes = headerBytes(gated);
  const fail = (message: string): never => {
    throw new ValidationError(`Cannot load deep memory model: ${message}`, [{ path: "weights", message }]);
  };
  if (view.byteLength < offset + sectionHeaderBytes) fail("the question memory header is cut short");
  const keyCount = view.getUint32(offset, true);
  const valueCount = view.getUint32(offset + 4, true);
  const neighbours = view.getUint32(offset + 8, true);
  const temperature = view.getFloat32(offset + 12, true);
  const weight = view.getFloat32(offset + 16, true);
  const probe = view.getFloat32(offset + 20, true);
  const threshold = gated ? view.getFloat32(offset + 24, true) : -Infinity;
  if (gated && !Number.isFinite(threshold)) fail("the question memory threshold is not a finite number");
  if (!(probe > 0 && probe <= 1)) fail("the question memory probe share is outside (0, 1]");
  if (neighbours < 1) fail("the question memory attends to no neighbours");
  if (!(temperature > 0) || !Number.isFinite(temperature)) fail("the question memory temperature is not a positive number");
  if (!(weight >= 0) || !Number.isFinite(weight)) fail("the question memory weight is not a non-negative number");
  if (valueCount > keyCount) fail("the question memory has more values than keys");
  const expected = sectionHeaderBytes + (keyCount + valueCount) * (4 + d) + 4 * keyCount;
  if (view.byteLength - offset < expected) fail(`the question memory needs ${expected} bytes, ${view.byteLength - offset} remain`);
  let at = offset + sectionHeaderBytes;
  const readScales = (n: number) => {
    const scales = new Float32Array(n);
    for (let i = 0; i < n; i++, at += 4) {
      const s = view.getFloat32(at, true);
      if (!(s >= 0) || !Number.isFinite(s)) fail("the question memory has a scale that is not a finite non-negative number");
      scales[i] = s;
    }
    return scales;
  };
  const keyScales = readScales(keyCount);
  const valueScales = readScales(valueCount);
  const valueOf = new Int32Array(keyCount);
  for (let i = 0; i < keyCount; i++, at += 4) {
    const v = view.getUint32(at, true);
    if (v >= valueCount) fail(`key ${i} points at value ${v}, past the ${valueCount} values`);
    valueOf[i] = v;
  }
  const codes = (n: number) => {
    const out = new Int8Array(n * d);
    out.set(new Int8Array(view.buffer, view.byteOffset + at, n * d));
    at += n * d;
    return out;
  };
  const keys = { codes: codes(keyCount), scales: keyScales };
  const values = { codes: codes(valueCount), scales: valueScales };
  if (view.byteLength - at < 4) fail("the question memory's list count is missing");
  const listCount = view.getUint32(at, true);
  at += 4;
  let lists: InvertedLists | null = null;
  if (listCount > 0) {
    if (listCount > keyCount) fail(`the question memory has ${listCount} lists for ${keyCount} keys`);
    if (view.byteLength - at < listCount * 4 * d + 4 * (listCount + 1)) fail("the question memory's lists are cut short");
    const centroids = new Float32Array(listCount * d);
    for (let i = 0; i < centroids.length; i++, at += 4) {
      const c = view.getFloat32(at, true);
      if (!Number.isFinite(c)) fail("the question memory has a non-finite list centroid");
      centroids[i] = c;
    }
    const start = new Int32Array(listCount + 1);
    for (let l = 0; l <= listCount; l++, at += 4) start[l] = view.getUint32(at, true);
    if (start[0] !== 0 || start[listCount] !== keyCount || start.some((o, l) => l > 0 && o < start[l - 1]!)) {
      fail("the question memory's list offsets do not cover its keys in order");
    }
    lists = { centroids, start };
  }
  const parameters = { neighbours, temperature, weight, probe, threshold };
  return { memory: QuestionMemory.fromContents({ dimensions: d, keys, values, valueOf, parameters, lists }), end: at };
}

/** The section's fixed fields: 24 bytes, 28 with a threshold. */
function headerBytes(gated: boolean): number {
  return gated ? 28 : 24;
}

/** Writes a little-endian float32 at `at`; returns the offset after it. */
function setFloat32(view: DataView, at: number, value: number): number {
  view.setFloat32(at, value, true);
  return at + 4;
}

/** Writes a little-endian uint32 at `at`; returns the offset after it. */
function setUint32(view: DataView, at: number, value: number): number {
  view.setUint32(at, value, true);
  return at + 4;
}
