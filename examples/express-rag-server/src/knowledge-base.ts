import { InMemoryVectorStore, type Embedder, type InMemoryDocument } from "@zip/deep-memory";
import type { KnowledgeBaseDocument } from "@zip/example-knowledge-base";

/** A retrievable passage of a note: what the RAG backend indexes and deep memory learns to find. */
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

/** Embeds the passages once at start and keeps them in an in-memory index shared by every user. */
export async function indexPassages(embedder: Embedder, passages: readonly Passage[], signal?: AbortSignal): Promise<InMemoryVectorStore> {
  const vectors = await embedder.embed(
    passages.map((p) => p.text),
    { kind: "document", ...(signal ? { signal } : {}) },
  );
  const documents: InMemoryDocument[] = passages.map((p, i) => ({
    id: p.id,
    text: p.text,
    embedding: vectors[i]!,
    metadata: { title: p.title, noteId: p.noteId },
  }));
  return new InMemoryVectorStore(documents);
}
