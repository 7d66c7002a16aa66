import type { GenerateRequest, GenerateResponse } from "@zip/deep-memory-protocol";
import { useMemo } from "react";
import { useMutation, type MutationCallbacks, type MutationResult } from "./use-mutation.js";

/** Why generate started nothing: every chunk already has training pairs. */
export interface NothingToGenerate {
  /** The newest run whose pairs cover the chunks: train it (status "generated") or look at it. */
  runId: string | null;
  runStatus: string | null;
  message: string;
}

export interface GenerateTrainingDataResult extends MutationResult<GenerateRequest | undefined, GenerateResponse> {
  /**
   * POST /generate; resolves to the job, or undefined on failure (see `error`,
   * and `nothingToGenerate` for the 409 that only says there is nothing new).
   * Each call sends its own Idempotency-Key.
   */
  generate: (body?: GenerateRequest) => Promise<GenerateResponse | undefined>;
  /** The job generating now, to pass to useJobEvents. */
  jobId: string | null;
  /** The run being generated, to pass to useTrainingRun. */
  runId: string | null;
  /** True when a job was already generating: this call follows it, nothing new started. */
  joined: boolean;
  /** Set when the server said every chunk is covered (409 NOTHING_TO_GENERATE): not a failure, a pointer to the run to train. */
  nothingToGenerate: NothingToGenerate | null;
}

/** Starts generating training pairs (POST /generate). Follow progress with useTrainingRun(runId) or useJobEvents(jobId). */
export function useGenerateTrainingData(
  callbacks: MutationCallbacks<GenerateRequest | undefined, GenerateResponse> = {},
): GenerateTrainingDataResult {
  const mutation = useMutation<GenerateRequest | undefined, GenerateResponse>(
    (client, body, signal) => client.generate(body, { signal }),
    callbacks,
  );
  return useMemo(() => {
    const nothing = mutation.error?.code === "NOTHING_TO_GENERATE" ? mutation.error : null;
    const detail = (name: string) => {
      const value = nothing?.details?.[name];
      return typeof value === "string" ? value : null;
    };
    return {
      ...mutation,
      generate: (body?: GenerateRequest) => mutation.mutate(body),
      jobId: mutation.data?.job_id ?? null,
      runId: mutation.data?.training_run_id ?? null,
      joined: mutation.data?.joined ?? false,
      nothingToGenerate: nothing ? { runId: detail("training_run_id"), runStatus: detail("status"), message: nothing.message } : null,
    };
  }, [mutation]);
}
