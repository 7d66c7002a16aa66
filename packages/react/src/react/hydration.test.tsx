import { act, waitFor } from "@testing-library/react";
import { hydrateRoot } from "react-dom/client";
import { renderToString } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import { AdminScreen } from "../test-utils/admin-screen.js";
import { setupFakeApi } from "../test-utils/msw.js";
import { makeClient } from "../test-utils/render.js";
import { DeepMemoryProvider } from "./provider.js";

const ctx = setupFakeApi();

describe("hydration", () => {
  it("hydrates server HTML without a mismatch, even when the browser's client already has data, then loads", async () => {
    const { runId, jobId } = ctx.api.startGeneration();
    const client = makeClient();
    // The browser's client already has the settings cached (from an earlier page, say).
    await client.settingsStore().fetch();
    const tree = (
      <DeepMemoryProvider client={client}>
        <AdminScreen runId={runId} jobId={jobId} />
      </DeepMemoryProvider>
    );
    // From before the server render: React must not warn there either (useLayoutEffect on the server, say).
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const container = document.createElement("div");
    container.innerHTML = renderToString(
      <DeepMemoryProvider client={makeClient()}>
        <AdminScreen runId={runId} jobId={jobId} />
      </DeepMemoryProvider>,
    );
    document.body.appendChild(container);
    const recoverable = vi.fn();
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, tree, { onRecoverableError: recoverable });
    });
    await waitFor(() => expect(container.textContent).toContain("run generating 0%"));
    expect(container.textContent).toContain("deep memory off");
    expect(recoverable).not.toHaveBeenCalled();
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    act(() => root?.unmount());
    container.remove();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ctx.api.log.openStreams).toBe(0);
  });
});
