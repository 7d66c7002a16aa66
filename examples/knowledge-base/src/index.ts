import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface KnowledgeBaseDocument {
  id: string;
  title: string;
  text: string;
  /** Questions a reader would ask that this document answers; never used for training. */
  evalQuestions: string[];
}

/** The documents, parsed from documents.md (one "## id | title" section each, questions as "Q:" lines). */
export function loadKnowledgeBase(): KnowledgeBaseDocument[] {
  const source = readFileSync(fileURLToPath(new URL("./documents.md", import.meta.url)), "utf8");
  return parseKnowledgeBase(source);
}

export function parseKnowledgeBase(source: string): KnowledgeBaseDocument[] {
  const docs: KnowledgeBaseDocument[] = [];
  for (const section of source.split(/^## /m).slice(1)) {
    const [header = "", ...lines] = section.split("\n");
    const [id, title] = header.split("|").map((s) => s.trim());
    if (!id || !title) throw new Error(`Malformed knowledge-base header: ${header}`);
    const evalQuestions = lines.filter((l) => l.startsWith("Q: ")).map((l) => l.slice(3).trim());
    const text = lines.filter((l) => !l.startsWith("Q: ")).join("\n").trim();
    docs.push({ id, title, text, evalQuestions });
  }
  return docs;
}

/** A retrievable passage of a note: what a RAG backend indexes and deep memory learns to find. */
export interface Passage {
  id: string;
  noteId: string;
  title: string;
  text: string;
}

/**
 * Splits each note into passages of `sentencesPerPassage` sentences, as a RAG
 * backend chunks its documents. Passage ids are `<note id>#<index>`. Each
 * passage starts with the note's title, so a passage read alone still says
 * what it is about (and embeds with that context).
 */
export function chunkNotes(notes: readonly KnowledgeBaseDocument[], sentencesPerPassage = 2): Passage[] {
  if (!Number.isInteger(sentencesPerPassage) || sentencesPerPassage < 1) throw new RangeError("sentencesPerPassage must be a positive integer");
  return notes.flatMap((note) => {
    // A sentence ends at . ! or ? followed by a space and a capital: "0.5 percent" and "e.g. the" stay whole.
    const sentences = note.text.split(/(?<=[.!?])\s+(?=[A-Z(])/).map((s) => s.trim()).filter(Boolean);
    const passages: Passage[] = [];
    for (let i = 0; i < sentences.length; i += sentencesPerPassage) {
      passages.push({
        id: `${note.id}#${i / sentencesPerPassage}`,
        noteId: note.id,
        title: note.title,
        text: `${note.title}. ${sentences.slice(i, i + sentencesPerPassage).join(" ")}`,
      });
    }
    return passages;
  });
}
