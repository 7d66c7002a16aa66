import type { JobStreamEvent } from "@zip/deep-memory-protocol";
import { useEffect, useMemo } from "react";
import { initialJobSnapshot, type JobStreamSnapshot } from "../client/job-stream-store.js";
import { useDeepMemoryClient } from "./provider.js";
import { useLatest } from "./use-latest.js";
import { constantStore, useStore } from "./use-store.js";

export interface JobEventsOptions {
  /** Called with every event once, in order (replays after a reconnect are not repeated). */
  onEvent?: (event: JobStreamEvent) => void;
}

export interface JobEventsResult extends Omit<JobStreamSnapshot, "jobId"> {
  jobId: string | null;
  /** After a stream error: try again. */
  retry: () => void;
}

const idle = constantStore<JobStreamSnapshot>(initialJobSnapshot(""));

export function idleJobSnapshot(): JobStreamSnapshot {
  return idle.getSnapshot();
}

/**
 * Follows a job's event stream while mounted (pass null to follow nothing).
 * Components following the same job share one connection; it closes when the
 * last of them unmounts and resumes from the last event when one mounts again.
 */
export function useJobEvents(jobId: string | null | undefined, options: JobEventsOptions = {}): JobEventsResult {
  const client = useDeepMemoryClient();
  const store = useMemo(() => (jobId ? client.jobStream(jobId) : null), [client, jobId]);
  const snapshot = useStore(store ?? idle);
  const callbacks = useLatest(options);

  useEffect(() => store?.onEvent((event) => callbacks.current.onEvent?.(event)), [store, callbacks]);

  return useMemo(() => ({ ...snapshot, jobId: store ? snapshot.jobId : null, retry: () => store?.retry() }), [snapshot, store]);
}
