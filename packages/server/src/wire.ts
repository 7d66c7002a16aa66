import type {
  CancelResult,
  CompareSearchResult,
  GenerateResult,
  ImportPairsResult,
  RunDetail,
  RunStatusSnapshot,
  SettingsView,
  TrainingRun,
  TrainResult,
} from "@zip/deep-memory";
import {
  toWireRun,
  toWireRunMetrics,
  toWireSamplePair,
  toWireSearchHit,
  type CancelJobResponse,
  type GenerateResponse,
  type ImportPairsResponse,
  type RunDetailResponse,
  type RunListResponse,
  type SearchResponse,
  type SettingsResponse,
  type StatusResponse,
  type TrainResponse,
} from "@zip/deep-memory-protocol";

/*
 * The trainer's results in their wire form. Each mapper names every wire
 * field, so a field added to a wire schema fails the type check here until
 * it is filled in.
 */

export function generateResponse(result: GenerateResult, eventsUrl: string): GenerateResponse {
  const message = result.joined
    ? `Already generating training data (${result.totalChunks} chunks in this run); following that job`
    : result.resumed
        ? `Resumed generating training data (${result.totalChunks} chunks in this run)`
        : `Generating training data for ${result.totalChunks} chunks`;
  return {
    job_id: result.jobId,
    training_run_id: result.runId,
    total_chunks: result.totalChunks,
    existing_chunks: result.existingChunks,
    resumed: result.resumed,
    joined: result.joined,
    message,
    events_url: eventsUrl,
  };
}

export function trainResponse(result: TrainResult, eventsUrl: string): TrainResponse {
  return {
    job_id: result.jobId,
    training_run_id: result.runId,
    joined: result.joined,
    message: result.joined ? "Already training this run; following that job" : "Training started",
    events_url: eventsUrl,
  };
}

export function cancelJobResponse(result: CancelResult): CancelJobResponse {
  return {
    job_id: result.jobId,
    training_run_id: result.runId,
    kind: result.kind,
    phase: result.phase,
    stopped: result.stopped,
    message: result.stopped ? "Job cancelled" : "Job cancelled; the server process running it stops at its next lease renewal",
  };
}

export function importPairsResponse(result: ImportPairsResult): ImportPairsResponse {
  return {
    training_run_id: result.runId,
    imported: result.imported,
    duplicates_removed: result.duplicatesRemoved,
    unknown_chunk_ids: result.unknownChunkIds,
    resumed: result.resumed,
  };
}

export function runListResponse(page: { runs: TrainingRun[]; total: number; limit: number; offset: number }): RunListResponse {
  return {
    runs: page.runs.map(toWireRun),
    total: page.total,
    limit: page.limit,
    offset: page.offset,
    has_more: page.offset + page.runs.length < page.total,
  };
}

export function runDetailResponse(detail: RunDetail): RunDetailResponse {
  const s = detail.statistics;
  return {
    ...toWireRun(detail.run),
    sample_pairs: detail.samplePairs.map(toWireSamplePair),
    statistics: {
      pair_count: s.pairCount,
      chunks_with_pairs: s.chunksWithPairs,
      pairs_per_chunk: s.pairsPerChunk,
      question_length: s.questionLength,
      duplicates_removed: s.duplicatesRemoved,
      chunks_skipped: s.chunksSkipped,
      chunks_already_covered: s.chunksAlreadyCovered,
      cap_reached: s.capReached,
    },
  };
}

export function settingsResponse(view: SettingsView): SettingsResponse {
  return {
    enabled: view.enabled,
    last_trained_at: view.lastTrainedAt?.toISOString() ?? null,
    last_training_run_id: view.lastTrainingRunId,
    model_run_id: view.modelRunId,
    can_enable: view.canEnable,
    cannot_enable_reason: view.cannotEnableReason,
    new_chunks_since_last_training: view.newChunksSinceLastTraining,
  };
}

export function searchResponse(query: string, k: number, result: CompareSearchResult): SearchResponse {
  return {
    query,
    k,
    with_deep_memory: result.withDeepMemory.map(toWireSearchHit),
    without_deep_memory: result.withoutDeepMemory.map(toWireSearchHit),
    deep_memory_applied: result.modelRunId !== null && result.reason === null,
    model_run_id: result.modelRunId,
    reason: result.reason,
  };
}

const phases = new Set(["generating", "embedding", "training", "evaluating"]);

export function statusResponse(snapshot: RunStatusSnapshot): StatusResponse {
  return {
    training_run_id: snapshot.runId,
    job_id: snapshot.jobId,
    kind: snapshot.kind,
    status: snapshot.status,
    active: snapshot.active,
    // The trainer types phase as a string; only the known phases go on the wire.
    phase: snapshot.phase !== null && phases.has(snapshot.phase) ? snapshot.phase : null,
    processed_chunks: snapshot.processedChunks,
    total_chunks: snapshot.totalChunks,
    pair_count: snapshot.pairCount,
    percent: snapshot.percent,
    error: snapshot.error,
    metrics: snapshot.metrics ? toWireRunMetrics(snapshot.metrics) : null,
  };
}
