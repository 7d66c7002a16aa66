import { RUN_FAILED_CODE, type RunDetailResponse, type RunMetricsWire } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import type { DeepMemoryClientError } from "../client/errors.js";
import type { JobError, JobKind, JobPhase, JobStreamSnapshot, RunStatus } from "../client/job-stream-store.js";
import type { QuerySnapshot } from "../client/query-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { activeJobId } from "./run-jobs.js";
import { idleJobSnapshot } from "./use-job-events.js";
import { constantStore, useStore } from "./use-store.js";

export interface TrainingRunOptions {
  /** Follow the run's event stream while it is active. Default true. */
  live?: boolean;
}

export interface TrainingRunResult {
  /** The run with its sample pairs and statistics, as last fetched. */
  data: RunDetailResponse | undefined;
  isLoading: boolean;
  /** The run's status, live while its job runs. */
  status: RunStatus | null;
  /** A job is generating or training the run now. */
  isActive: boolean;
  /** The job being followed, if any. */
  jobId: string | null;
  kind: JobKind | null;
  phase: JobPhase | null;
  processed: number;
  total: number;
  /** 0..100 for the whole job (100 once generated or completed). */
  percent: number;
  pairCount: number;
  /** Held-out recall with and without deep memory, once training completed. */
  metrics: RunMetricsWire | null;
  /** Why the run failed, or why it could not be loaded or followed. */
  error: DeepMemoryClientError | JobError | null;
  /** The live stream's state (connection, epoch, loss, last event...), for progress displays that want more. */
  stream: JobStreamSnapshot;
  refetch: () => Promise<RunDetailResponse | undefined>;
}

const noRun = constantStore<QuerySnapshot<RunDetailResponse>>({ status: "pending", data: undefined, error: null, isFetching: false, updatedAt: null });
const noJob = constantStore(idleJobSnapshot());

/**
 * The percent a run's stored counters give before its job's stream says
 * anything. They count generated chunks: a run that is training has them all
 * and is not 100% done, it is starting; a training that failed shows nothing.
 */
function storedPercent(run: RunDetailResponse): number {
  if (run.status === "generated" || run.status === "completed") return 100;
  if (run.status === "training" || (run.status === "failed" && run.failed_phase === "training")) return 0;
  return run.total_chunks > 0 ? Math.min(100, (run.processed_chunks / run.total_chunks) * 100) : 0;
}

/**
 * One run (GET /runs/:runId) and, while a job is working on it, that job's
 * live progress over Server-Sent Events. When the job ends the run is
 * refetched, so `data` (statistics, sample pairs, metrics) is final.
 */
export function useTrainingRun(runId: string | null | undefined, options: TrainingRunOptions = {}): TrainingRunResult {
  const client = useDeepMemoryClient();
  const live = options.live ?? true;
  const runStore = useMemo(() => (runId ? client.runStore(runId) : null), [client, runId]);
  const run = useStore(runStore ?? noRun);
  const detail = run.data;
  const jobId = detail && live ? activeJobId(detail) : null;
  const streamStore = useMemo(() => (jobId ? client.jobStream(jobId) : null), [client, jobId]);
  const stream = useStore(streamStore ?? noJob);

  return useMemo(() => {
    // The stream knows better than the last fetch once it has said anything.
    const following = streamStore !== null && stream.lastEvent !== null;
    // The failed job's own event has the precise code; the stored run keeps only the message.
    const failedJobId = detail?.status === "failed" ? (detail.failed_phase === "training" ? detail.train_job_id : detail.generate_job_id) : null;
    const failedJobError = failedJobId ? client.jobStream(failedJobId).getSnapshot().error : null;
    const runError: JobError | null = failedJobError ?? (detail?.error ? { code: RUN_FAILED_CODE, message: detail.error } : null);
    return {
      data: detail,
      isLoading: runStore !== null && run.status === "pending",
      status: (following ? stream.runStatus : null) ?? detail?.status ?? null,
      isActive: jobId !== null && !stream.done,
      jobId,
      kind: following ? stream.kind : null,
      phase: following ? stream.phase : null,
      processed: following ? stream.processed : (detail?.processed_chunks ?? 0),
      total: following ? stream.total : (detail?.total_chunks ?? 0),
      percent: following ? stream.percent : detail ? storedPercent(detail) : 0,
      pairCount: following ? stream.pairCount : (detail?.pair_count ?? 0),
      metrics: (following ? stream.metrics : null) ?? detail?.metrics ?? null,
      error: run.error ?? (following ? stream.error : null) ?? runError ?? stream.streamError,
      stream,
      refetch: () => runStore?.refetch() ?? Promise.resolve(undefined),
    };
  }, [client, run, detail, runStore, streamStore, stream, jobId]);
}
