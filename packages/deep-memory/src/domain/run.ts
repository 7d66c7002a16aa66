import * as z from "zod";
import type { RunStatus, TrainingRun } from "@zip/deep-memory-protocol";

export {
  runStatusSchema,
  generationSettingsSchema,
  trainingRunSchema,
  trainingPairSchema,
  type RunStatus,
  type GenerationSettings,
  type TrainingRun,
  type TrainingPair,
} from "@zip/deep-memory-protocol";

/** Statuses in which a run holds its user's single active slot. */
export const activeRunStatuses = ["pending", "generating", "training"] as const satisfies readonly RunStatus[];
export const terminalRunStatuses = ["generated", "completed", "failed"] as const satisfies readonly RunStatus[];

/** Fields a store may change after creation. */
export type RunPatch = Partial<
  Omit<TrainingRun, "id" | "userId" | "createdAt" | "updatedAt" | "generation">
>;

export const chunkOutcomeSchema = z.object({
  chunkId: z.string().min(1),
  status: z.enum(["done", "skipped"]),
  /** Questions to store for the chunk (already deduplicated and capped). */
  questions: z.array(z.string().min(1)),
  /** Why a chunk was skipped, e.g. "empty text" or the generator's last error. */
  reason: z.string().nullable(),
  duplicatesRemoved: z.number().int().nonnegative(),
  /** Set when storing these questions reached the pair cap. */
  capReached: z.boolean(),
});
export type ChunkOutcome = z.infer<typeof chunkOutcomeSchema>;
