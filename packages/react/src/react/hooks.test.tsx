import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import { delay, http, HttpResponse } from "msw";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { BASE_URL, fakeRunId } from "../test-utils/fake-api.js";
import { setupFakeApi } from "../test-utils/msw.js";
import { renderHookWithClient } from "../test-utils/render.js";
import { DeepMemoryProvider, useDeepMemoryClient } from "./provider.js";
import { useDeepMemorySearch } from "./use-deep-memory-search.js";
import { useDeepMemorySettings } from "./use-deep-memory-settings.js";
import { useGenerateTrainingData } from "./use-generate-training-data.js";
import { useCancelJob } from "./use-cancel-job.js";
import { useJobEvents } from "./use-job-events.js";
import { useStartTraining } from "./use-start-training.js";
import { useTrainingRuns } from "./use-training-runs.js";

const ctx = setupFakeApi();

describe("useGenerateTrainingData and useTrainingRuns", () => {
  it("starts generation, exposes the job and run, and refreshes the run history", async () => {
    const onSuccess = vi.fn();
    const { result } = renderHookWithClient(() => ({ generate: useGenerateTrainingData({ onSuccess }), runs: useTrainingRuns() }));
    await waitFor(() => expect(result.current.runs.isLoading).toBe(false));
    expect(result.current.runs).toMatchObject({ runs: [], total: 0, hasMore: false });
    expect(result.current.generate).toMatchObject({ status: "idle", jobId: null, runId: null, isPending: false });

    let started: Awaited<ReturnType<typeof result.current.generate.generate>>;
    await act(async () => {
      started = await result.current.generate.generate({ questions_per_chunk: 2 });
    });
    expect(started!).toMatchObject({ total_chunks: 4 });
    expect(result.current.generate).toMatchObject({ status: "success", isSuccess: true, jobId: started!.job_id, runId: started!.training_run_id });
    expect(onSuccess).toHaveBeenCalledWith(started!, { questions_per_chunk: 2 });
    await waitFor(() => expect(result.current.runs.runs.map((run) => run.id)).toEqual([started!.training_run_id]));
    expect(result.current.runs.total).toBe(1);
    // What an admin screen follows after a reload.
    expect(result.current.runs.activeRun).toMatchObject({ id: started!.training_run_id, status: "generating", generate_job_id: started!.job_id });
  });

  it("exposes a refused generation (409 RUN_ALREADY_ACTIVE while a run trains) without throwing", async () => {
    ctx.api.createRun({ status: "training" });
    const onError = vi.fn();
    const { result } = renderHookWithClient(() => useGenerateTrainingData({ onError }));
    let outcome: unknown = "unset";
    await act(async () => {
      outcome = await result.current.generate();
    });
    expect(outcome).toBeUndefined();
    expect(result.current).toMatchObject({ status: "error", isError: true, jobId: null });
    expect(result.current.error).toMatchObject({ status: 409, code: "RUN_ALREADY_ACTIVE" });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: "RUN_ALREADY_ACTIVE" }), undefined);
    await expect(result.current.mutateAsync(undefined)).rejects.toMatchObject({ code: "RUN_ALREADY_ACTIVE" });

    act(() => result.current.reset());
    expect(result.current).toMatchObject({ status: "idle", error: null });
  });

  it("says when a click joined the job already running, and when there was nothing new to generate (not an error to show as one)", async () => {
    const { result } = renderHookWithClient(() => useGenerateTrainingData());
    const first = await act(() => result.current.generate());
    expect(result.current.joined).toBe(false);
    const second = await act(() => result.current.generate());
    expect(second).toMatchObject({ job_id: first!.job_id, joined: true });
    expect(result.current).toMatchObject({ joined: true, jobId: first!.job_id, nothingToGenerate: null });
    act(() => void ctx.api.emit(first!.job_id, { type: "completed", status: "generated", pair_count: 12, processed_chunks: 4, total_chunks: 4, cap_reached: false }));
    ctx.api.state.allCovered = true;
    await act(() => result.current.generate());
    expect(result.current.error).toMatchObject({ code: "NOTHING_TO_GENERATE" });
    expect(result.current.nothingToGenerate).toEqual({ runId: first!.training_run_id, runStatus: "generated", message: expect.stringContaining("already has training pairs") });
  });

  it("pages the run history", async () => {
    for (let i = 0; i < 3; i++) ctx.api.createRun({ status: "completed" });
    const { result } = renderHookWithClient(() => useTrainingRuns({ limit: 2, offset: 0 }));
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current.runs.map((run) => run.id)).toEqual([fakeRunId(3), fakeRunId(2)]);
    expect(result.current).toMatchObject({ total: 3, hasMore: true, activeRun: null });
  });
});

describe("useStartTraining", () => {
  it("starts training a generated run, and exposes 409 for a run that is not", async () => {
    const ready = ctx.api.createRun({ status: "generated" });
    const busy = ctx.api.createRun({ status: "generating" });
    const { result } = renderHookWithClient(() => useStartTraining());
    await act(async () => void (await result.current.startTraining(ready.id)));
    expect(result.current).toMatchObject({ status: "success", runId: ready.id, jobId: expect.stringMatching(/^job-/) });

    await act(async () => void (await result.current.startTraining(busy.id)));
    expect(result.current.error).toMatchObject({ status: 409, code: "INVALID_RUN_STATE" });
    expect(result.current.jobId).toBeNull();
  });
});

describe("useCancelJob", () => {
  it("cancels a running job: its stream ends as cancelled with the reason; a finished job's cancel is a 409", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const { result } = renderHookWithClient(() => ({ cancel: useCancelJob(), events: useJobEvents(jobId) }));
    act(() => void ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false }));
    await waitFor(() => expect(result.current.events.status).toBe("running"));

    await act(async () => void (await result.current.cancel.cancelJob(jobId, "wrong knowledge base")));
    expect(result.current.cancel).toMatchObject({
      status: "success",
      data: { job_id: jobId, training_run_id: runId, kind: "generate", phase: "generating", stopped: true },
    });
    await waitFor(() => expect(result.current.events.done).toBe(true));
    expect(result.current.events).toMatchObject({ status: "cancelled", runStatus: "failed", error: { code: "CANCELLED", message: "wrong knowledge base" } });

    await act(async () => void (await result.current.cancel.cancelJob(jobId)));
    expect(result.current.cancel.error).toMatchObject({ status: 409, code: "INVALID_RUN_STATE" });
  });
});

describe("useDeepMemorySearch", () => {
  it("returns the results with and without deep memory side by side", async () => {
    ctx.api.state.settings = { ...ctx.api.state.settings, enabled: true, model_run_id: "run-1", can_enable: true };
    const { result } = renderHookWithClient(() => useDeepMemorySearch({ k: 3 }));
    await act(async () => void (await result.current.search("stop loss")));
    expect(result.current.withoutDeepMemory.map((hit) => hit.id)).toEqual(["chunk-a", "chunk-b", "chunk-c"]);
    expect(result.current.withDeepMemory.map((hit) => hit.id)).toEqual(["chunk-c", "chunk-b", "chunk-a"]);
    expect(result.current).toMatchObject({ deepMemoryApplied: true, variables: { query: "stop loss", k: 3 } });
    expect(result.current.data?.model_run_id).toBe("run-1");
  });

  it("aborts a search in flight when a new one starts; only the newest result shows", async () => {
    const aborted: string[] = [];
    let slowArrived!: () => void;
    const slowReached = new Promise<void>((resolve) => (slowArrived = resolve));
    ctx.server.use(
      http.post(`${BASE_URL}/search`, async ({ request }) => {
        const { query } = (await request.clone().json()) as { query: string };
        request.signal.addEventListener("abort", () => aborted.push(query));
        if (query === "slow") {
          slowArrived();
          await delay(200);
        }
        return undefined;
      }),
    );
    const onError = vi.fn();
    const { result } = renderHookWithClient(() => useDeepMemorySearch({ onError }));
    let slow: Promise<unknown> | undefined;
    act(() => {
      slow = result.current.search("slow");
    });
    await slowReached;
    await act(async () => void (await result.current.search("fast")));
    await act(async () => void (await slow));
    expect(result.current.status).toBe("success");
    expect(result.current.variables).toEqual({ query: "fast" });
    expect(result.current.data?.query).toBe("fast");
    expect(aborted).toContain("slow");
    expect(onError).not.toHaveBeenCalled();
  });

  it("rejects an empty query without a request", async () => {
    const { result } = renderHookWithClient(() => useDeepMemorySearch());
    await act(async () => void (await result.current.search("  ")));
    expect(result.current.error).toMatchObject({ code: "VALIDATION_FAILED", status: null });
    expect(ctx.api.log.requests).toEqual([]);
  });
});

describe("DeepMemoryProvider", () => {
  it("builds a client from options and sends the latest headers (e.g. a refreshed token)", async () => {
    ctx.server.use(
      http.all(`${BASE_URL}/*`, ({ request }) => {
        if (!request.headers.get("authorization")?.startsWith("Bearer ")) return HttpResponse.json({ error: { code: "UNAUTHORIZED", message: "no" } }, { status: 401 });
        return undefined;
      }),
    );
    const tokens: string[] = [];
    ctx.server.use(
      http.get(`${BASE_URL}/settings`, ({ request }) => {
        tokens.push(request.headers.get("authorization")!);
        return undefined;
      }),
    );
    let setToken!: (token: string) => void;
    let client!: ReturnType<typeof useDeepMemoryClient>;
    function Probe() {
      client = useDeepMemoryClient();
      const settings = useDeepMemorySettings();
      return <span>{settings.isLoading ? "loading" : `enabled=${settings.data?.enabled}`}</span>;
    }
    function App() {
      const [token, set] = useState("one");
      setToken = set;
      return (
        <DeepMemoryProvider baseUrl={BASE_URL} headers={async () => ({ authorization: `Bearer ${token}` })}>
          <Probe />
        </DeepMemoryProvider>
      );
    }
    render(<App />);
    await screen.findByText("enabled=false");
    const firstClient = client;
    act(() => setToken("two"));
    await act(async () => void (await client.settingsStore().refetch()));
    expect(client).toBe(firstClient);
    expect(tokens).toEqual(["Bearer one", "Bearer two"]);
  });

  it("recreates the client for a new baseUrl with that baseUrl, not the previous render's", () => {
    // Before, the new client was made from the props of the render before (the ref was updated only after render).
    let client: ReturnType<typeof useDeepMemoryClient> | undefined;
    function Probe() {
      client = useDeepMemoryClient();
      return null;
    }
    const { rerender } = render(
      <DeepMemoryProvider baseUrl="http://one.test/api">
        <Probe />
      </DeepMemoryProvider>,
    );
    const first = client;
    expect(first?.baseUrl).toBe("http://one.test/api");
    rerender(
      <DeepMemoryProvider baseUrl="http://two.test/api">
        <Probe />
      </DeepMemoryProvider>,
    );
    expect(client).not.toBe(first);
    expect(client?.baseUrl).toBe("http://two.test/api");
  });

  it("tells a hook used outside a provider what is missing", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => renderHook(() => useDeepMemorySettings())).toThrow(/inside a <DeepMemoryProvider>/);
    spy.mockRestore();
  });
});
