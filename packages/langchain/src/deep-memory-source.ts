import type { DeepMemoryTrainer } from "@zip/deep-memory";

/** What the LangChain wrappers need from a trainer: its per-user query transform. A `DeepMemoryTrainer` is one. */
export type DeepMemorySource = Pick<DeepMemoryTrainer, "applyDeepMemory">;

/** "auto" follows the user's toggle; "on" applies the model even while the user has it off; "off" searches plainly. */
export type DeepMemoryMode = "auto" | "on" | "off";

/** Whether a search applied deep memory, and why not when it did not. */
export interface DeepMemoryUsage {
  used: boolean;
  modelRunId: string | null;
  reason: string | null;
}
