/** Read models the trainer returns; they live in the protocol package, which derives the HTTP wire schemas from them. */
export {
  distributionSchema,
  runStatisticsSchema,
  settingsViewSchema,
  runStatusSnapshotSchema,
  type Distribution,
  type RunStatistics,
  type SettingsView,
  type RunStatusSnapshot,
} from "@zip/deep-memory-protocol";
