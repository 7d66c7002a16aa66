import { useCallback, useMemo } from "react";
import type { DeepMemoryClient } from "../client/client.js";
import { type DeepMemoryClientError, isAbortError } from "../client/errors.js";
import { MutationStore, type MutationSnapshot, type MutationStoreOptions } from "../client/mutation-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { useLatest } from "./use-latest.js";
import { useStore } from "./use-store.js";

export interface MutationCallbacks<TVariables, TData> {
  onSuccess?: (data: TData, variables: TVariables) => void;
  onError?: (error: DeepMemoryClientError, variables: TVariables) => void;
}

export interface MutationResult<TVariables, TData> extends MutationSnapshot<TVariables, TData> {
  /** Runs the action; resolves to its result, or undefined on failure (see `error`). Never rejects. */
  mutate: (variables: TVariables) => Promise<TData | undefined>;
  /** Runs the action; rejects with a DeepMemoryClientError on failure. */
  mutateAsync: (variables: TVariables) => Promise<TData>;
  isSuccess: boolean;
  isError: boolean;
  reset: () => void;
}

/** One action's state, private to the calling component. */
export function useMutation<TVariables, TData>(
  action: (client: DeepMemoryClient, variables: TVariables, signal: AbortSignal) => Promise<TData>,
  callbacks: MutationCallbacks<TVariables, TData> = {},
  storeOptions: MutationStoreOptions = {},
): MutationResult<TVariables, TData> {
  const client = useDeepMemoryClient();
  const latestAction = useLatest(action);
  const latestCallbacks = useLatest(callbacks);
  const abortPrevious = storeOptions.abortPrevious ?? false;
  const store = useMemo(
    () => new MutationStore<TVariables, TData>((variables, signal) => latestAction.current(client, variables, signal), { abortPrevious }),
    [client, latestAction, abortPrevious],
  );
  const snapshot = useStore(store);

  const mutateAsync = useCallback(
    async (variables: TVariables) => {
      try {
        const data = await store.mutateAsync(variables);
        latestCallbacks.current.onSuccess?.(data, variables);
        return data;
      } catch (error) {
        // A call superseded by a newer one is not a failure anyone needs to hear about.
        if (!isAbortError(error)) latestCallbacks.current.onError?.(error as DeepMemoryClientError, variables);
        throw error;
      }
    },
    [store, latestCallbacks],
  );
  const mutate = useCallback((variables: TVariables) => mutateAsync(variables).catch(() => undefined), [mutateAsync]);
  const reset = useCallback(() => store.reset(), [store]);

  return useMemo(
    () => ({ ...snapshot, mutate, mutateAsync, reset, isSuccess: snapshot.status === "success", isError: snapshot.status === "error" }),
    [snapshot, mutate, mutateAsync, reset],
  );
}
