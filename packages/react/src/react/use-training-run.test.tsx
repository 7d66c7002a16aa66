import type { JobStreamEvent } from "@zip/deep-memory-protocol";
import { act, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { sampleMetrics } from "../test-utils/fake-api.js";
import { tick, setupFakeApi } from "../test-utils/msw.js";
import { renderHookWithClient, renderWithClient } from "../test-utils/render.js";
import { useJobEvents } from "./use-job-events.js";
import { useStartTraining } from "./use-start-training.js";
import { useTrainingRun } from "./use-training-run.js";

const ctx = setupFakeApi();

const progress = (processed: number, pairs: number) =>
  ({ type: "progress", phase: "generating", processed, total: 4, percent: processed * 25, pair_count: pairs, skipped_chunks: 0 }) as const;
const generated = { type: "completed", status: "generated", pair_count: 12, processed_chunks: 4, total_chunks: 4, cap_reached: false } as const;

function Progress({ runId }: { runId: string }) {
  const run = useTrainingRun(runId);
  return (
    <p>
      {run.isLoading ? "loading" : `${run.status} ${run.phase ?? "-"} ${run.processed}/${run.total} ${run.percent}% pairs=${run.pairCount} active=${run.isActive}`}
    </p>
  );
}

describe("useTrainingRun", () => {
  it("follows an active run live, then shows the refetched detail when its job ends", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const { result } = renderHookWithClient(() => useTrainingRun(runId));
    await waitFor(() => expect(result.current.stream.connection).toBe("open"));
    expect(result.current).toMatchObject({ status: "generating", isActive: true, jobId, percent: 0, pairCount: 0 });

    act(() => void ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false }));
    act(() => void ctx.api.emit(jobId, progress(3, 9)));
    await waitFor(() => expect(result.current).toMatchObject({ phase: "generating", processed: 3, total: 4, percent: 75, pairCount: 9, kind: "generate" }));

    act(() => void ctx.api.emit(jobId, generated));
    await waitFor(() => expect(result.current.data?.status).toBe("generated"));
    expect(result.current).toMatchObject({ status: "generated", isActive: false, jobId: null, percent: 100, pairCount: 12, error: null });
    expect(result.current.data?.statistics.pair_count).toBe(12);
    expect(result.current.data?.sample_pairs).toHaveLength(1);
    expect(ctx.api.log.openStreams).toBe(0);
    expect(ctx.api.log.requests.filter((r) => r === `GET /runs/${runId}`)).toHaveLength(2);
  });

  it("follows training after useStartTraining and ends with the metrics", async () => {
    const run = ctx.api.createRun({ status: "generated", pair_count: 12, processed_chunks: 4 });
    const { result } = renderHookWithClient(() => ({ run: useTrainingRun(run.id), train: useStartTraining() }));
    await waitFor(() => expect(result.current.run.status).toBe("generated"));
    expect(result.current.run).toMatchObject({ isActive: false, percent: 100, metrics: null });

    await act(async () => void (await result.current.train.startTraining(run.id)));
    const jobId = result.current.train.jobId!;
    await waitFor(() => expect(result.current.run).toMatchObject({ status: "training", isActive: true, jobId }));
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));

    act(() => void ctx.api.emit(jobId, { type: "progress", phase: "evaluating", processed: 1, total: 1, percent: 95, pair_count: 12, skipped_chunks: 0 }));
    await waitFor(() => expect(result.current.run).toMatchObject({ phase: "evaluating", percent: 95 }));
    act(() => void ctx.api.emit(jobId, { type: "completed", status: "completed", pair_count: 12, processed_chunks: 4, total_chunks: 4, cap_reached: false, metrics: sampleMetrics }));
    await waitFor(() => expect(result.current.run.data?.status).toBe("completed"));
    expect(result.current.run).toMatchObject({ status: "completed", isActive: false, metrics: sampleMetrics });
  });

  it("exposes a failed run's error, and a missing run's 404", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const { result } = renderHookWithClient(() => ({ failing: useTrainingRun(runId), missing: useTrainingRun("run-missing") }));
    await waitFor(() => expect(result.current.failing.stream.connection).toBe("open"));
    act(() => void ctx.api.emit(jobId, { type: "failed", error: { code: "UPSTREAM_FAILED", message: "OpenAI is down" } }));
    await waitFor(() => expect(result.current.failing.status).toBe("failed"));
    expect(result.current.failing.error).toMatchObject({ code: "UPSTREAM_FAILED", message: "OpenAI is down" });
    await waitFor(() => expect(result.current.failing.data?.status).toBe("failed"));
    // The refetched run stores only the message; the code seen on the stream is kept.
    expect(result.current.failing.error).toMatchObject({ code: "UPSTREAM_FAILED", message: "OpenAI is down" });
    await waitFor(() => expect(result.current.missing.error).toMatchObject({ status: 404, code: "NOT_FOUND" }));
  });

  it("follows nothing without a run id, and stops following when the run id changes", async () => {
    const a = ctx.api.startGeneration();
    const { result, rerender } = renderHookWithClient(() => useTrainingRun(null));
    expect(result.current).toMatchObject({ data: undefined, isLoading: false, status: null, isActive: false });
    await tick(20);
    expect(ctx.api.log.requests).toEqual([]);

    function Switcher() {
      const [runId, setRunId] = useState(a.runId);
      const run = useTrainingRun(runId);
      return (
        <button type="button" onClick={() => setRunId("run-other")}>
          {run.isActive ? "active" : "idle"}
        </button>
      );
    }
    rerender();
    renderWithClient(<Switcher />);
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    act(() => screen.getByRole("button").click());
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(0));
  });
});

describe("useJobEvents", () => {
  it("delivers each event once to the latest onEvent, across a dropped connection", async () => {
    const { jobId } = ctx.api.startGeneration();
    const seen: string[] = [];
    const { result, rerender } = renderHookWithClient(() => {
      const [label, setLabel] = useState("first");
      const events = useJobEvents(jobId, { onEvent: (event: JobStreamEvent) => seen.push(`${label}:${"seq" in event ? event.seq : "?"}`) });
      return { events, setLabel };
    });
    await waitFor(() => expect(result.current.events.connection).toBe("open"));
    act(() => void ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false }));
    act(() => void ctx.api.emit(jobId, progress(1, 3)));
    await waitFor(() => expect(result.current.events.processed).toBe(1));

    act(() => result.current.setLabel("second"));
    rerender();
    act(() => ctx.api.drop(jobId));
    act(() => void ctx.api.emit(jobId, progress(2, 6)));
    await waitFor(() => expect(ctx.api.log.streamRequests).toHaveLength(2));
    act(() => void ctx.api.emit(jobId, generated));
    await waitFor(() => expect(result.current.events.done).toBe(true));

    expect(ctx.api.log.streamRequests[1]?.lastEventId).toBe("2");
    expect(seen).toEqual(["first:1", "first:2", "second:3", "second:4"]);
    expect(result.current.events).toMatchObject({ jobId, status: "completed", pairCount: 12, percent: 100 });
  });

  it("returns an idle state for no job", () => {
    const { result } = renderHookWithClient(() => useJobEvents(null));
    expect(result.current).toMatchObject({ jobId: null, connection: "idle", status: "waiting", done: false });
  });
});

describe("streams and React lifecycles", () => {
  it("StrictMode: one stream request for one job, and nothing left open after unmount", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const { unmount } = renderWithClient(<Progress runId={runId} />, { strict: true });
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    act(() => void ctx.api.emit(jobId, progress(2, 6)));
    await screen.findByText("generating generating 2/4 50% pairs=6 active=true");
    await tick(30);
    expect(ctx.api.log.streamRequests).toHaveLength(1);
    expect(ctx.api.log.requests.filter((r) => r.startsWith("GET /runs/"))).toHaveLength(1);

    unmount();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);
    expect(ctx.api.log.maxOpenStreams).toBe(1);
  });

  it("two components on the same job share one stream, which closes when the last unmounts", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    function Page() {
      const [showSecond, setShowSecond] = useState(true);
      const events = useJobEvents(jobId);
      return (
        <>
          <Progress runId={runId} />
          {showSecond && <Progress runId={runId} />}
          <span>{`events ${events.processed}`}</span>
          <button type="button" onClick={() => setShowSecond(false)}>
            hide
          </button>
        </>
      );
    }
    const { unmount } = renderWithClient(<Page />, { strict: true });
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    act(() => void ctx.api.emit(jobId, progress(1, 3)));
    await waitFor(() => expect(screen.getAllByText("generating generating 1/4 25% pairs=3 active=true")).toHaveLength(2));
    screen.getByText("events 1");

    act(() => screen.getByRole("button", { name: "hide" }).click());
    await tick();
    expect(ctx.api.log.openStreams).toBe(1);
    unmount();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);
    expect(ctx.api.log.streamRequests).toHaveLength(1);
  });

  it("a remount picks the stream back up from the last event", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const first = renderWithClient(<Progress runId={runId} />);
    await waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    act(() => void ctx.api.emit(jobId, progress(1, 3)));
    await screen.findByText(/1\/4/);
    first.unmount();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);

    ctx.api.emit(jobId, progress(2, 6));
    renderWithClient(<Progress runId={runId} />, { client: first.client });
    await screen.findByText("generating generating 2/4 50% pairs=6 active=true");
    expect(ctx.api.log.streamRequests.map((r) => r.lastEventId)).toEqual([null, "1"]);
  });
});
