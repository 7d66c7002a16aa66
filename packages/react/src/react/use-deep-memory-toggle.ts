import type { SettingsResponse } from "@zip/deep-memory-protocol";
import { useCallback, useMemo } from "react";
import type { DeepMemoryClientError } from "../client/errors.js";
import { useDeepMemoryClient } from "./provider.js";
import { useLatest } from "./use-latest.js";
import { useStore } from "./use-store.js";

export interface DeepMemoryToggleOptions {
  onSuccess?: (settings: SettingsResponse) => void;
  /** Called after the rollback, e.g. to show a toast. */
  onError?: (error: DeepMemoryClientError) => void;
}

export interface DeepMemoryToggleResult {
  /** Whether deep memory is on, including a change the server has not confirmed yet; false while loading. */
  enabled: boolean;
  /** Whether the server would accept enabling (a completed run beat plain search). */
  canEnable: boolean;
  /** Why enabling would be refused, when it would. */
  cannotEnableReason: string | null;
  /** ISO-8601 time of the last completed training; null when never trained. */
  lastTrainedAt: string | null;
  lastTrainingRunId: string | null;
  newChunksSinceLastTraining: number;
  /**
   * Turns deep memory on or off at once (optimistically); rolls back when the
   * server refuses. Resolves to true when the server accepted; never rejects.
   */
  setEnabled: (enabled: boolean) => Promise<boolean>;
  isUpdating: boolean;
  isLoading: boolean;
  /** The last refused change (e.g. 409 NO_TRAINED_MODEL), else a failure to load the settings. */
  error: DeepMemoryClientError | null;
  settings: SettingsResponse | undefined;
}

/** The deep-memory on/off switch, optimistic with rollback. Every toggle on the page shares its state. */
export function useDeepMemoryToggle(options: DeepMemoryToggleOptions = {}): DeepMemoryToggleResult {
  const store = useDeepMemoryClient().settingsStore();
  const settings = useStore(store);
  const update = useStore(store.updates);
  const callbacks = useLatest(options);

  const setEnabled = useCallback(
    async (enabled: boolean) => {
      try {
        const result = await store.setEnabled(enabled);
        callbacks.current.onSuccess?.(result);
        return true;
      } catch (error) {
        callbacks.current.onError?.(error as DeepMemoryClientError);
        return false;
      }
    },
    [store, callbacks],
  );

  return useMemo(() => {
    const data = settings.data;
    return {
      enabled: data?.enabled ?? false,
      canEnable: data?.can_enable ?? false,
      cannotEnableReason: data?.cannot_enable_reason ?? null,
      lastTrainedAt: data?.last_trained_at ?? null,
      lastTrainingRunId: data?.last_training_run_id ?? null,
      newChunksSinceLastTraining: data?.new_chunks_since_last_training ?? 0,
      setEnabled,
      isUpdating: update.isPending,
      isLoading: settings.status === "pending",
      error: update.error ?? settings.error,
      settings: data,
    };
  }, [settings, update, setEnabled]);
}
