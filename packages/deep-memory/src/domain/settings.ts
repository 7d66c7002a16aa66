import * as z from "zod";

export const deepMemorySettingsSchema = z.object({
  userId: z.string().min(1),
  enabled: z.boolean(),
  lastTrainedAt: z.date().nullable(),
  lastTrainingRunId: z.string().nullable(),
  /** The run whose model search uses: the newest completed run that beat the baseline. */
  modelRunId: z.string().nullable(),
  updatedAt: z.date(),
});
export type DeepMemorySettings = z.infer<typeof deepMemorySettingsSchema>;
export type SettingsPatch = Partial<Omit<DeepMemorySettings, "userId" | "updatedAt">>;

export const storedModelSchema = z.object({
  runId: z.string().min(1),
  userId: z.string().min(1),
  /** Engine name and weight format, e.g. "local-residual-linear/v1". */
  engine: z.string().min(1),
  format: z.string().min(1),
  dimensions: z.number().int().positive(),
  embeddingModel: z.string().min(1),
  weights: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected a Uint8Array"),
  metrics: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
});
export type StoredModel = z.infer<typeof storedModelSchema>;
