/** The run metrics schemas live in the protocol package: the HTTP API's wire form is derived from them. */
export {
  metricTableSchema,
  evaluationResultSchema,
  trainingReportSchema,
  fusionScoreSchema,
  retrievalReportSchema,
  runMetricsSchema,
  type MetricTable,
  type EvaluationResult,
  type TrainingReport,
  type RetrievalReport,
  type RunMetrics,
} from "@zip/deep-memory-protocol";
