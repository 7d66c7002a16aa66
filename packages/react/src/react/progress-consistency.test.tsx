import { act, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { setupFakeApi } from "../test-utils/msw.js";
import { renderHookWithClient } from "../test-utils/render.js";
import { useGenerateTrainingData } from "./use-generate-training-data.js";
import { useStartTraining } from "./use-start-training.js";
import { useTrainingRun } from "./use-training-run.js";
import { useTrainingRuns } from "./use-training-runs.js";

const ctx = setupFakeApi();

describe("progress that agrees with itself", () => {
  it("a run that starts training never shows 100% before its first event: the bar starts at 0 and only rises", async () => {
    const run = ctx.api.createRun({ status: "generated", pair_count: 12, processed_chunks: 4, total_chunks: 4 });
    const seen: { status: string | null; percent: number }[] = [];
    const { result } = renderHookWithClient(() => {
      const value = { run: useTrainingRun(run.id), train: useStartTraining() };
      seen.push({ status: value.run.status, percent: value.run.percent });
      return value;
    });
    await waitFor(() => expect(result.current.run.status).toBe("generated"));
    await act(async () => void (await result.current.train.startTraining(run.id)));
    const jobId = result.current.train.jobId!;
    await waitFor(() => expect(result.current.run.status).toBe("training"));
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    act(() => void ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false }));
    act(() => void ctx.api.emit(jobId, { type: "progress", phase: "embedding", processed: 1, total: 2, percent: 10, pair_count: 12, skipped_chunks: 0 }));
    await waitFor(() => expect(result.current.run.percent).toBe(10));

    const training = seen.filter((s) => s.status === "training").map((s) => s.percent);
    expect(training.length).toBeGreaterThan(0);
    expect(training[0]).toBe(0);
    expect(training).toEqual([...training].sort((a, b) => a - b));
    expect(Math.max(...training)).toBe(10);
  });

  it("the history's row for the running job shows the same pair count as the live progress", async () => {
    const { result, client } = renderHookWithClient(() => ({ runs: useTrainingRuns(), generate: useGenerateTrainingData() }));
    await waitFor(() => expect(result.current.runs.isLoading).toBe(false));
    await act(async () => void (await result.current.generate.generate()));
    const jobId = result.current.generate.jobId!;
    const { result: live } = renderHookWithClient(() => useTrainingRun(result.current.generate.runId), { client });
    await waitFor(() => expect(result.current.runs.activeRun?.id).toBe(result.current.generate.runId));
    act(() => void ctx.api.emit(jobId, { type: "progress", phase: "generating", processed: 3, total: 4, percent: 75, pair_count: 9, skipped_chunks: 0 }));
    await waitFor(() => expect(result.current.runs.runs[0]).toMatchObject({ pair_count: 9, processed_chunks: 3 }));
    await waitFor(() => expect(live.current.pairCount).toBe(9));
    // The list was fetched once, at the start: the counts come from the stream, not from polling.
    expect(ctx.api.log.requests.filter((r) => r === "GET /runs")).toHaveLength(2);
  });
});
