// @zip/deep-memory/retrieval: the keyword index and the fusion of dense and
// keyword rankings the trainer searches with, for hosts and benchmarks that
// run the same hybrid search outside the trainer.
export { Bm25Index, bm25OptionsSchema, type Bm25Options, type Bm25Hit } from "./bm25-index.js";
export { englishTerms, englishStopWords } from "./english-analyzer.js";
export {
  fusionSchema,
  fuseRankings,
  legDepth,
  describeFusion,
  defaultHybridFusion,
  denseOnly,
  type Fusion,
  type RankedHit,
} from "./fusion.js";
export {
  chooseFusion,
  fusionCandidates,
  fusedRanking,
  candidateDepth,
  copiedQuestionsFusion,
  type FusionScore,
  type LegRankings,
} from "./fusion-selection.js";
export { fusedSearch, poolEmbeddings } from "./search-legs.js";
export { boostByNeighbors, neighborsOf, withoutNeighbors, type Neighbors } from "./neighbor-boost.js";
export { copiedPhraseShare, isCopiedQuestion, copiedPhraseThreshold, uncopiedRows } from "./copied-questions.js";
