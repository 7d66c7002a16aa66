import type { GenerateRequest, GenerateResponse } from "@zip/deep-memory/protocol";
import { useMemo } from "react";
import { useMutation, type MutationCallbacks, type MutationResult } from "./use-mutation.js";

export interface GenerateTrainingDataResult extends MutationResult<GenerateRequest | undefined, GenerateResponse> {
  /** POST /generate; resolves to the started job, or undefined on failure (e.g. 409 RUN_ALREADY_ACTIVE, see `error`). */
  generate: (body?: GenerateRequest) => Promise<GenerateResponse | undefined>;
  /** The started job, to pass to useJobEvents. */
  jobId: string | null;
  /** The run being generated, to pass to useTrainingRun. */
  runId: string | null;
}

/** Starts generating training pairs (POST /generate). Follow progress with useTrainingRun(runId) or useJobEvents(jobId). */
export function useGenerateTrainingData(
  callbacks: MutationCallbacks<GenerateRequest | undefined, GenerateResponse> = {},
): GenerateTrainingDataResult {
  const mutation = useMutation<GenerateRequest | undefined, GenerateResponse>(
    (client, body, signal) => client.generate(body, { signal }),
    callbacks,
  );
  return useMemo(
    () => ({
      ...mutation,
      generate: (body?: GenerateRequest) => mutation.mutate(body),
      jobId: mutation.data?.job_id ?? null,
      runId: mutation.data?.training_run_id ?? null,
    }),
    [mutation],
  );
}
