// @zip/deep-memory/schemas: the zod schemas the root entry's types are
// inferred from, for hosts that validate data they store or receive.
export { chunkSchema, searchHitSchema } from "../domain/chunk.js";
export {
  metricTableSchema,
  evaluationResultSchema,
  trainingReportSchema,
  fusionScoreSchema,
  retrievalReportSchema,
  runMetricsSchema,
} from "../domain/metrics.js";
export {
  runStatusSchema,
  activeRunStatuses,
  terminalRunStatuses,
  generationSettingsSchema,
  trainingRunSchema,
  trainingPairSchema,
  chunkOutcomeSchema,
} from "../domain/run.js";
export { deepMemorySettingsSchema, storedModelSchema } from "../domain/settings.js";
export { distributionSchema, runStatisticsSchema, settingsViewSchema, runStatusSnapshotSchema } from "../domain/views.js";
export {
  jobKindSchema,
  jobPhaseSchema,
  jobStartedEventSchema,
  jobProgressEventSchema,
  chunkSkippedEventSchema,
  jobCompletedEventSchema,
  jobFailedEventSchema,
  jobCancelledEventSchema,
  jobEventSchema,
  terminalEventTypes,
} from "../events/events.js";
export { fusionSchema } from "../retrieval/fusion.js";
export { trainerOptionsSchema } from "../trainer/options.js";
export { modelFileHeaderSchema, MODEL_FILE_FORMAT, MODEL_FILE_VERSION } from "../trainer/model-file-format.js";
