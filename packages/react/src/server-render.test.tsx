// @vitest-environment node
import { renderToString } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";

describe("server rendering", () => {
  it("imports without a DOM and renders every hook's initial state without fetching", async () => {
    expect(typeof window).toBe("undefined");
    expect(typeof document).toBe("undefined");
    const fetchSpy = vi.fn(() => Promise.reject(new Error("no fetch during server rendering")));
    vi.stubGlobal("fetch", fetchSpy);
    try {
      const { DeepMemoryProvider, createDeepMemoryClient } = await import("./index.js");
      const { AdminScreen } = await import("./test-utils/admin-screen.js");
      const html = renderToString(
        <DeepMemoryProvider baseUrl="https://api.example.com/v1/api/deep-memory" headers={{ authorization: "Bearer t" }}>
          <AdminScreen runId="run-1" jobId="job-1" />
        </DeepMemoryProvider>,
      );
      expect(html).toContain("settings loading");
      expect(html).toContain("runs loading");
      expect(html).toContain("run loading");
      expect(html).toContain("job waiting idle");

      // A client created on the server (the /client entry has no React) renders the same initial state.
      const client = createDeepMemoryClient({ baseUrl: "https://api.example.com/dm" });
      const again = renderToString(
        <DeepMemoryProvider client={client}>
          <AdminScreen runId="run-1" jobId="job-1" />
        </DeepMemoryProvider>,
      );
      expect(again).toBe(html);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("the client entry imports no React", async () => {
    const source = await import("node:fs/promises").then((fs) => fs.readdir(new URL("./client/", import.meta.url)));
    const files = source.filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));
    const { readFile } = await import("node:fs/promises");
    for (const file of files) {
      const text = await readFile(new URL(`./client/${file}`, import.meta.url), "utf8");
      expect(text, file).not.toMatch(/from "react/);
    }
  });
});
