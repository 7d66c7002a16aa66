import type { SearchHitWire, SearchRequest, SearchResponse } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import { useMutation, type MutationCallbacks, type MutationResult } from "./use-mutation.js";

export interface DeepMemorySearchOptions extends MutationCallbacks<SearchRequest, SearchResponse> {
  /** Results per list when `search` is not told otherwise. Default: the server's (5). */
  k?: number;
}

export interface DeepMemorySearchResult extends MutationResult<SearchRequest, SearchResponse> {
  /** POST /search; a new search aborts the one in flight. Resolves to undefined on failure (see `error`). */
  search: (query: string, options?: { k?: number }) => Promise<SearchResponse | undefined>;
  /** The top k with the user's deep memory applied (the plain list again when none applies). */
  withDeepMemory: SearchHitWire[];
  withoutDeepMemory: SearchHitWire[];
  /** Whether a trained model was applied; see `data.reason` when not. */
  deepMemoryApplied: boolean;
}

/** Compares search with and without deep memory, side by side (POST /search). */
export function useDeepMemorySearch(options: DeepMemorySearchOptions = {}): DeepMemorySearchResult {
  const { k: defaultK, ...callbacks } = options;
  const mutation = useMutation<SearchRequest, SearchResponse>((client, body, signal) => client.search(body, { signal }), callbacks, {
    abortPrevious: true,
  });
  return useMemo(
    () => ({
      ...mutation,
      search: (query: string, searchOptions: { k?: number } = {}) => {
        const k = searchOptions.k ?? defaultK;
        return mutation.mutate(k === undefined ? { query } : { query, k });
      },
      withDeepMemory: mutation.data?.with_deep_memory ?? [],
      withoutDeepMemory: mutation.data?.without_deep_memory ?? [],
      deepMemoryApplied: mutation.data?.deep_memory_applied ?? false,
    }),
    [mutation, defaultK],
  );
}
