import type { ListRunsQuery, RunListResponse, RunWire } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import type { JobStreamSnapshot } from "../client/job-stream-store.js";
import type { QuerySnapshot } from "../client/query-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { activeJobId } from "./run-jobs.js";
import { idleJobSnapshot } from "./use-job-events.js";
import { constantStore, useStore } from "./use-store.js";

export interface TrainingRunsResult extends QuerySnapshot<RunListResponse> {
  /** This page's runs, newest first; empty while loading. The running one's counts are live (from its job's event stream). */
  runs: RunWire[];
  total: number;
  hasMore: boolean;
  /** The newest run on this page that a job is working on (pending, generating or training): what to follow after a reload. */
  activeRun: RunWire | null;
  isLoading: boolean;
  refetch: () => Promise<RunListResponse | undefined>;
}

const ACTIVE_STATUSES = new Set<RunWire["status"]>(["pending", "generating", "training"]);
const noJob = constantStore(idleJobSnapshot());

/** The run as its job's stream last described it: pair and chunk counts while generating, the status once it ended. */
function withLiveCounts(run: RunWire, stream: JobStreamSnapshot): RunWire {
  if (stream.lastEvent === null) return run;
  const counts = stream.kind === "generate" ? { pair_count: stream.pairCount, processed_chunks: stream.processed, total_chunks: stream.total || run.total_chunks } : {};
  return { ...run, ...counts, status: stream.runStatus ?? run.status };
}

/**
 * GET /runs: one page of the user's training runs, newest first. Refetched
 * when a job starts or ends (through this client) so a history table stays
 * current; while a job runs, its run's row follows the job's event stream
 * (shared with useTrainingRun), so the table and a progress display agree.
 */
export function useTrainingRuns(query: ListRunsQuery = {}): TrainingRunsResult {
  const client = useDeepMemoryClient();
  const { limit, offset } = query;
  const store = useMemo(() => client.runsStore({ limit, offset }), [client, limit, offset]);
  const snapshot = useStore(store);
  const listed = snapshot.data?.runs;
  const active = listed?.find((run) => ACTIVE_STATUSES.has(run.status)) ?? null;
  const jobId = active ? activeJobId(active) : null;
  const streamStore = useMemo(() => (jobId ? client.jobStream(jobId) : null), [client, jobId]);
  const stream = useStore(streamStore ?? noJob);
  return useMemo(() => {
    const runs = (listed ?? []).map((run) => (run === active && streamStore ? withLiveCounts(run, stream) : run));
    return {
      ...snapshot,
      runs,
      total: snapshot.data?.total ?? 0,
      hasMore: snapshot.data?.has_more ?? false,
      activeRun: runs.find((run) => ACTIVE_STATUSES.has(run.status)) ?? null,
      isLoading: snapshot.status === "pending",
      refetch: () => store.refetch(),
    };
  }, [snapshot, store, listed, active, streamStore, stream]);
}
