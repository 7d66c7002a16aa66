import type { JobRegistry } from "../events/job-registry.js";
import type { EmbeddingCache } from "./corpus.js";
import type { JobRunner } from "./job-runner.js";
import type { ResolvedTrainerOptions, trainerConfigSchema } from "./options.js";
import type { RunLeases } from "./run-leases.js";

export type ResolvedTrainerConfig = ReturnType<typeof trainerConfigSchema.parse>;

/** What the trainer's parts share: the ports, the options, this process's jobs and leases. */
export interface TrainerContext {
  readonly config: ResolvedTrainerConfig;
  readonly options: ResolvedTrainerOptions;
  readonly clock: () => Date;
  readonly jobs: JobRegistry;
  readonly runner: JobRunner;
  readonly leases: RunLeases;
  readonly cache: EmbeddingCache;
}
