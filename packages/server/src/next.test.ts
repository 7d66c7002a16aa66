import { errorBodySchema, settingsResponseSchema } from "@zip/deep-memory-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createNextRouteHandlers } from "./next.js";
import { createTrainer, userHeader, type TestSetup } from "./test-support/index.js";

/*
 * The Next.js helper called as Next calls route handlers: with a Request
 * built in code (no Content-Length), at the catch-all's path. The full
 * contract suite runs against a real `next start` in the dashboard example.
 */
describe("createNextRouteHandlers", () => {
  const setups: TestSetup[] = [];
  afterEach(async () => {
    for (const s of setups.splice(0)) await s.trainer.close();
  });
  const handlers = () => {
    const setup = createTrainer();
    setups.push(setup);
    return createNextRouteHandlers({ trainer: setup.trainer, getUserId: (request) => request.headers.get(userHeader) });
  };
  const at = (path: string, init: RequestInit = {}) =>
    new Request(`http://localhost:3000/api/deep-memory/${path}`, { ...init, headers: { [userHeader]: "alice", ...init.headers } });

  it("serves the API under /api/deep-memory by default, bodies without Content-Length included", async () => {
    const { GET, PUT, POST } = handlers();
    expect(settingsResponseSchema.parse(await (await GET(at("settings"))).json())).toMatchObject({ enabled: false });
    const put = await PUT(at("settings", { method: "PUT", body: JSON.stringify({ enabled: false }), headers: { "content-type": "application/json" } }));
    expect(put.status).toBe(200);
    const generate = await POST(at("generate", { method: "POST" }));
    expect(generate.status).toBe(202);
    expect(((await generate.json()) as { events_url: string }).events_url).toMatch(/^\/api\/deep-memory\/events\/stream\//);
  });

  it("answers a method the route lacks with a JSON 405, and a path it lacks with a JSON 404", async () => {
    const { DELETE, GET } = handlers();
    const res = await DELETE(at("settings", { method: "DELETE" }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, PUT, OPTIONS");
    const missing = await GET(at("nope"));
    expect(missing.status).toBe(404);
    expect(errorBodySchema.parse(await missing.json()).error.code).toBe("NOT_FOUND");
  });

  it("releases a job's event subscription when the request is aborted", async () => {
    const setup = createTrainer();
    setups.push(setup);
    setup.generator.gate.close();
    const { GET, POST } = createNextRouteHandlers({ trainer: setup.trainer, getUserId: (request) => request.headers.get(userHeader) });
    const { job_id } = (await (await POST(at("generate", { method: "POST" }))).json()) as { job_id: string };
    const abort = new AbortController();
    const res = await GET(at(`events/stream/${job_id}`, { signal: abort.signal }));
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(setup.trainer.jobListenerCount(job_id)).toBe(1);
    abort.abort();
    expect(setup.trainer.jobListenerCount(job_id)).toBe(0);
    setup.generator.gate.open();
  });
});
