import type { CancelJobResponse } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import { useMutation, type MutationCallbacks, type MutationResult } from "./use-mutation.js";

export interface CancelJobInput {
  jobId: string;
  /** Stored on the run and sent in the job's `cancelled` event. */
  reason?: string;
}

export interface CancelJobResult extends MutationResult<CancelJobInput, CancelJobResponse> {
  /**
   * POST /jobs/:jobId/cancel; resolves to the cancelled job, or undefined on
   * failure (e.g. 409 INVALID_RUN_STATE when the job had finished, see `error`).
   * The job's event stream (useJobEvents, useTrainingRun) then ends with status "cancelled".
   */
  cancelJob: (jobId: string, reason?: string) => Promise<CancelJobResponse | undefined>;
}

/** Cancels a generate or train job. A cancelled generation resumes on the next generate; a cancelled training run can be trained again. */
export function useCancelJob(callbacks: MutationCallbacks<CancelJobInput, CancelJobResponse> = {}): CancelJobResult {
  const mutation = useMutation<CancelJobInput, CancelJobResponse>(
    (client, { jobId, reason }, signal) => client.cancelJob(jobId, reason === undefined ? {} : { reason }, { signal }),
    callbacks,
  );
  const { mutate } = mutation;
  return useMemo(
    () => ({ ...mutation, cancelJob: (jobId: string, reason?: string) => mutate(reason === undefined ? { jobId } : { jobId, reason }) }),
    [mutation, mutate],
  );
}
