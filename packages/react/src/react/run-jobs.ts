import type { RunWire } from "@zip/deep-memory-protocol";

/** The job working on a run now: its generate job while pending or generating, its train job while training. */
export function activeJobId(run: Pick<RunWire, "status" | "generate_job_id" | "train_job_id">): string | null {
  if (run.status === "pending" || run.status === "generating") return run.generate_job_id;
  if (run.status === "training") return run.train_job_id;
  return null;
}
