// @zip/deep-memory/evaluation: the metrics and the deterministic split the
// trainer evaluates with, for benchmarks that must score the same way.
export { retrievalMetrics, ndcgAt, mrrAt, defaultTopK } from "./metrics.js";
export { deterministicSplit, stableUnit, normalizeQuestion } from "./split.js";
export { dot, normalize } from "./vector-math.js";
export { retrainMaxQuestions, saturatedHeldOutRecall } from "../trainer/training.js";
