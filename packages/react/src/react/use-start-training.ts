import type { TrainResponse } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import { useMutation, type MutationCallbacks, type MutationResult } from "./use-mutation.js";

export interface StartTrainingResult extends MutationResult<string, TrainResponse> {
  /** POST /train for a generated run; resolves to the started job, or undefined on failure (e.g. 409 INVALID_RUN_STATE, see `error`). */
  startTraining: (runId: string) => Promise<TrainResponse | undefined>;
  jobId: string | null;
  runId: string | null;
  /** True when the run was already training: this call follows that job. */
  joined: boolean;
}

/** Starts training deep memory on a generated run (POST /train). */
export function useStartTraining(callbacks: MutationCallbacks<string, TrainResponse> = {}): StartTrainingResult {
  const mutation = useMutation<string, TrainResponse>(
    (client, runId, signal) => client.train({ training_run_id: runId }, { signal }),
    callbacks,
  );
  return useMemo(
    () => ({
      ...mutation,
      startTraining: mutation.mutate,
      jobId: mutation.data?.job_id ?? null,
      runId: mutation.data?.training_run_id ?? null,
      joined: mutation.data?.joined ?? false,
    }),
    [mutation],
  );
}
