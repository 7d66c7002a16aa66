import { act, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { setupFakeApi } from "../test-utils/msw.js";
import { renderHookWithClient, renderWithClient } from "../test-utils/render.js";
import { useDeepMemorySettings } from "./use-deep-memory-settings.js";
import { useDeepMemoryToggle } from "./use-deep-memory-toggle.js";

const ctx = setupFakeApi();

function allowEnabling() {
  ctx.api.state.settings = {
    ...ctx.api.state.settings,
    can_enable: true,
    cannot_enable_reason: null,
    last_trained_at: "2025-01-02T03:04:05.000Z",
    last_training_run_id: "run-9",
    model_run_id: "run-9",
    new_chunks_since_last_training: 3,
  };
}

describe("useDeepMemorySettings", () => {
  it("loads GET /settings once for every component on the page", async () => {
    function Badge() {
      const { data, isLoading } = useDeepMemorySettings();
      return <span>{isLoading ? "loading" : data?.enabled ? "on" : "off"}</span>;
    }
    renderWithClient(
      <>
        <Badge />
        <Badge />
      </>,
    );
    expect(screen.getAllByText("loading")).toHaveLength(2);
    await waitFor(() => expect(screen.getAllByText("off")).toHaveLength(2));
    expect(ctx.api.log.requests).toEqual(["GET /settings"]);
  });
});

describe("useDeepMemoryToggle", () => {
  it("exposes the settings and enables optimistically, then with the server's answer", async () => {
    allowEnabling();
    const { result } = renderHookWithClient(() => useDeepMemoryToggle());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current).toMatchObject({
      enabled: false,
      canEnable: true,
      lastTrainedAt: "2025-01-02T03:04:05.000Z",
      lastTrainingRunId: "run-9",
      newChunksSinceLastTraining: 3,
      isUpdating: false,
      error: null,
    });

    const release = ctx.api.holdSettingsUpdates();
    let accepted: Promise<boolean> | undefined;
    act(() => {
      accepted = result.current.setEnabled(true);
    });
    // Shown at once, before the server answered.
    expect(result.current).toMatchObject({ enabled: true, isUpdating: true });
    release();
    expect(await accepted).toBe(true);
    await waitFor(() => expect(result.current.isUpdating).toBe(false));
    expect(result.current).toMatchObject({ enabled: true, error: null });
    expect(ctx.api.state.settings.enabled).toBe(true);
  });

  it("rolls back when the server refuses (409) and exposes the error to every toggle", async () => {
    const onError = vi.fn();
    function Toggle({ name }: { name: string }) {
      const toggle = useDeepMemoryToggle({ onError });
      return (
        <div>
          <button type="button" aria-pressed={toggle.enabled} disabled={toggle.isLoading} onClick={() => void toggle.setEnabled(!toggle.enabled)}>
            {name}
          </button>
          {toggle.isUpdating && <span>{name} saving</span>}
          {toggle.error && <p role="alert">{`${name}: ${toggle.error.code} ${toggle.error.status}`}</p>}
        </div>
      );
    }
    renderWithClient(
      <>
        <Toggle name="header" />
        <Toggle name="card" />
      </>,
    );
    const header = screen.getByRole<HTMLButtonElement>("button", { name: "header" });
    const card = screen.getByRole<HTMLButtonElement>("button", { name: "card" });
    const pressed = (button: HTMLElement) => button.getAttribute("aria-pressed");
    await waitFor(() => expect(header.disabled).toBe(false));

    const release = ctx.api.holdSettingsUpdates();
    act(() => header.click());
    expect(pressed(header)).toBe("true");
    expect(pressed(card)).toBe("true");
    expect(screen.getByText("card saving")).toBeDefined();

    release();
    await waitFor(() => expect(pressed(header)).toBe("false"));
    expect(pressed(card)).toBe("false");
    expect(screen.getAllByRole("alert").map((node) => node.textContent)).toEqual(["header: NO_TRAINED_MODEL 409", "card: NO_TRAINED_MODEL 409"]);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: "NO_TRAINED_MODEL", status: 409 }));
    // The refusal refetches the settings, so can_enable and its reason are current.
    await waitFor(() => expect(ctx.api.log.requests.filter((r) => r === "GET /settings")).toHaveLength(2));
  });

  it("keeps the latest choice when an earlier request answers after a later one", async () => {
    allowEnabling();
    const { result } = renderHookWithClient(() => useDeepMemoryToggle());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    const release = ctx.api.holdSettingsUpdates();
    let first: Promise<boolean> | undefined;
    let second: Promise<boolean> | undefined;
    act(() => {
      first = result.current.setEnabled(true);
      second = result.current.setEnabled(false);
    });
    expect(result.current.enabled).toBe(false);
    release();
    await act(async () => {
      await Promise.all([first, second]);
    });
    expect(result.current).toMatchObject({ enabled: false, isUpdating: false, error: null });
  });
});
