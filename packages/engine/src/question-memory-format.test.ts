import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { normalizeRows } from "./kernels.js";
import { memorySectionBytes, readMemorySection, writeMemorySection } from "./question-memory-format.js";
import { QuestionMemory, type MemoryParameters } from "./question-memory.js";
import { SeededRandom } from "./random.js";

const d = 16;

function memory(parameters: MemoryParameters, questionCount = 60): QuestionMemory {
  const random = new SeededRandom(7);
  const unit = (rows: number) => {
    const x = Float32Array.from({ length: rows * d }, () => random.normal());
    normalizeRows(x, rows, d);
    return x;
  };
  const corpus = unit(30);
  // Some questions are about two chunks: more keys than questions, fewer values than keys.
  const positives = Array.from({ length: questionCount }, (_, i) => (i % 3 === 0 ? Int32Array.of(i % 30, (i + 1) % 30) : Int32Array.of(i % 30)));
  return QuestionMemory.build(unit(questionCount), positives, corpus, d, parameters);
}

/** The section written at `offset` inside a larger buffer, as a model's weights hold it after the factors. */
function written(m: QuestionMemory, offset = 12): { view: DataView; end: number } {
  const bytes = new Uint8Array(offset + memorySectionBytes(m));
  const view = new DataView(bytes.buffer, 0, bytes.byteLength);
  return { view, end: writeMemorySection(m, view, offset) };
}

const parameters = { neighbours: 4, temperature: 0.05, weight: 0.3, probe: 0.5 };

describe("the question memory's section of a model", () => {
  it("reads back the memory it wrote, to the byte, and ends where memorySectionBytes says", () => {
    const original = memory(parameters);
    const { view, end } = written(original);
    expect(end).toBe(view.byteLength);
    const read = readMemorySection(view, 12, d);
    expect(read.end).toBe(end);
    const loaded = read.memory;
    expect(loaded.parameters).toEqual(original.parameters);
    expect([loaded.keyCount, loaded.valueCount]).toEqual([original.keyCount, original.valueCount]);
    expect(loaded.valueOf).toEqual(original.valueOf);
    expect(loaded.values).toEqual(original.values);
    expect(loaded.dequantisedKeys()).toEqual(original.dequantisedKeys());
    // Written again, the loaded memory gives the same bytes; and it pulls a query exactly as the original.
    expect(new Uint8Array(written(loaded).view.buffer)).toEqual(new Uint8Array(view.buffer));
    const query = original.values.slice(0, d);
    const [a, b] = [new Float32Array(d), new Float32Array(d)];
    original.pull(query, a);
    loaded.pull(query, b);
    expect(b).toEqual(a);
  });

  it("keeps the gate's threshold in four more bytes (layout 3), and keeps inverted lists", () => {
    const plain = memory(parameters);
    const gated = memory({ ...parameters, threshold: 0.25 });
    expect(memorySectionBytes(gated)).toBe(memorySectionBytes(plain) + 4);
    const { view } = written(gated);
    expect(readMemorySection(view, 12, d, true).memory.parameters.threshold).toBe(Math.fround(0.25));

    // Above indexMinKeys (4,096) keys with probe < 1 the memory has lists; they come back as written.
    const indexed = memory({ ...parameters, probe: 0.2 }, 4200);
    expect(indexed.lists).not.toBeNull();
    const lists = readMemorySection(written(indexed).view, 12, d).memory.lists;
    expect(lists).toEqual(indexed.lists);
  });

  it("refuses a cut-short section, a key pointing past the values, and bad parameters with a ValidationError", () => {
    const m = memory(parameters);
    const { view } = written(m);
    const cut = new DataView(view.buffer, 0, view.byteLength - 1);
    expect(() => readMemorySection(cut, 12, d)).toThrow(ValidationError);
    expect(() => readMemorySection(new DataView(view.buffer, 0, 30), 12, d)).toThrow(/header is cut short/);

    const pastValues = written(m).view;
    // The first key's value row: after the 24-byte header and every scale.
    pastValues.setUint32(12 + 24 + 4 * (m.keyCount + m.valueCount), m.valueCount, true);
    expect(() => readMemorySection(pastValues, 12, d)).toThrow(new RegExp(`key 0 points at value ${m.valueCount}`));

    const noNeighbours = written(m).view;
    noNeighbours.setUint32(12 + 8, 0, true);
    expect(() => readMemorySection(noNeighbours, 12, d)).toThrow(/attends to no neighbours/);
  });
});
