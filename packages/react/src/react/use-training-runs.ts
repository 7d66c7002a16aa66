import type { ListRunsQuery, RunListResponse, RunWire } from "@zip/deep-memory/protocol";
import { useMemo } from "react";
import type { QuerySnapshot } from "../client/query-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { useStore } from "./use-store.js";

export interface TrainingRunsResult extends QuerySnapshot<RunListResponse> {
  /** This page's runs, newest first; empty while loading. */
  runs: RunWire[];
  total: number;
  hasMore: boolean;
  /** The newest run on this page that a job is working on (pending, generating or training): what to follow after a reload. */
  activeRun: RunWire | null;
  isLoading: boolean;
  refetch: () => Promise<RunListResponse | undefined>;
}

const ACTIVE_STATUSES = new Set<RunWire["status"]>(["pending", "generating", "training"]);

/**
 * GET /runs: one page of the user's training runs, newest first. Refetched
 * when a job starts or ends (through this client) so a history table stays current.
 */
export function useTrainingRuns(query: ListRunsQuery = {}): TrainingRunsResult {
  const client = useDeepMemoryClient();
  const { limit, offset } = query;
  const store = useMemo(() => client.runsStore({ limit, offset }), [client, limit, offset]);
  const snapshot = useStore(store);
  return useMemo(
    () => ({
      ...snapshot,
      runs: snapshot.data?.runs ?? [],
      total: snapshot.data?.total ?? 0,
      hasMore: snapshot.data?.has_more ?? false,
      activeRun: snapshot.data?.runs.find((run) => ACTIVE_STATUSES.has(run.status)) ?? null,
      isLoading: snapshot.status === "pending",
      refetch: () => store.refetch(),
    }),
    [snapshot, store],
  );
}
