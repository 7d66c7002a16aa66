import { loadKnowledgeBase, type KnowledgeBaseDocument } from "@zip/example-knowledge-base";
import { describe, expect, it } from "vitest";
import { chunkNotes } from "./knowledge-base.js";

const note = (text: string): KnowledgeBaseDocument => ({ id: "n", title: "Title", text, evalQuestions: [] });

describe("chunkNotes", () => {
  it("splits a note into passages of two sentences, each led by the note's title", () => {
    const passages = chunkNotes([note("One is first. Two follows! Three asks? Four ends.")]);
    expect(passages).toEqual([
      { id: "n#0", noteId: "n", title: "Title", text: "Title. One is first. Two follows!" },
      { id: "n#1", noteId: "n", title: "Title", text: "Title. Three asks? Four ends." },
    ]);
  });

  it("keeps decimals and abbreviations inside their sentence, and loses no text", () => {
    const text = "Fees cost 0.5 percent, e.g. on a 1.25 million order. Then it ends.";
    const [passage, ...rest] = chunkNotes([note(text)], 1);
    expect(passage?.text).toBe("Title. Fees cost 0.5 percent, e.g. on a 1.25 million order.");
    expect(rest.map((p) => p.text)).toEqual(["Title. Then it ends."]);
  });

  it("covers every note of the example knowledge base with every word of its text", () => {
    const notes = loadKnowledgeBase();
    const passages = chunkNotes(notes);
    expect(new Set(passages.map((p) => p.noteId))).toEqual(new Set(notes.map((n) => n.id)));
    expect(new Set(passages.map((p) => p.id)).size).toBe(passages.length);
    for (const n of notes) {
      const joined = passages
        .filter((p) => p.noteId === n.id)
        .map((p) => p.text.slice(n.title.length + 2))
        .join(" ");
      expect(joined.replace(/\s+/g, " ")).toBe(n.text.replace(/\s+/g, " "));
    }
  });

  it("rejects a passage size that is not a positive integer", () => {
    expect(() => chunkNotes([note("A.")], 0)).toThrow(RangeError);
  });
});
