import type { ChunkPage, ListChunksInput, VectorStore } from "../ports/vector-store.js";

/** Every page `listChunks` gives from the first cursor to the end, in order: for checking a store's paging. */
export async function allPages(store: Pick<VectorStore, "listChunks">, input: Omit<ListChunksInput, "cursor">): Promise<ChunkPage[]> {
  const pages: ChunkPage[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listChunks({ ...input, cursor });
    pages.push(page);
    // A store whose cursor never ends would hang the test instead of failing it.
    if (pages.length > 10_000) throw new Error("listChunks returned more than 10,000 pages");
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}
