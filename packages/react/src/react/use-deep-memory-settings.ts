import type { SettingsResponse } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import type { QuerySnapshot } from "../client/query-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { useStore } from "./use-store.js";

export interface DeepMemorySettingsResult extends QuerySnapshot<SettingsResponse> {
  isLoading: boolean;
  refetch: () => Promise<SettingsResponse | undefined>;
}

/** GET /settings, shared by every component that reads it (with a pending toggle already applied). */
export function useDeepMemorySettings(): DeepMemorySettingsResult {
  const store = useDeepMemoryClient().settingsStore();
  const snapshot = useStore(store);
  return useMemo(() => ({ ...snapshot, isLoading: snapshot.status === "pending", refetch: () => store.refetch() }), [snapshot, store]);
}
