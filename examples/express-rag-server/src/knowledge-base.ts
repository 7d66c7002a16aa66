import { InMemoryVectorStore, type Embedder, type InMemoryDocument } from "@zip/deep-memory";
import type { Passage } from "@zip/example-knowledge-base";

export { chunkNotes, type Passage } from "@zip/example-knowledge-base";

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
