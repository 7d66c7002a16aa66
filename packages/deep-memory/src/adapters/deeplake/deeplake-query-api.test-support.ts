import { http, type HttpResponse } from "msw";
import { setupServer, type SetupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";
import { DeepLakeVectorStore } from "./deeplake-vector-store.js";

/** The managed Tensor Database's query endpoint for the test dataset hub://acme/support-docs. */
export const deeplakeEndpoint = "https://app.activeloop.ai/api/query/dataset/acme/support-docs";

/**
 * The query API through msw for one test file: every request's TQL (`{query}`)
 * and headers are recorded in `requests` (emptied after each test) and
 * answered by `answer`, which plays the service against a small dataset;
 * `server.use` overrides it for one test.
 */
export function mockDeepLakeQueryApi(answer: (query: string) => ReturnType<typeof HttpResponse.json>): {
  server: SetupServer;
  requests: { query: string; headers: Headers }[];
} {
  const requests: { query: string; headers: Headers }[] = [];
  const server = setupServer(
    http.post(deeplakeEndpoint, async ({ request }) => {
      const { query } = (await request.json()) as { query: string };
      requests.push({ query, headers: request.headers });
      return answer(query);
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    server.resetHandlers();
    requests.length = 0;
  });
  afterAll(() => server.close());
  return { server, requests };
}

/** A store on the test dataset, retrying without delay. */
export function testDeepLakeStore(token: string, options: Partial<ConstructorParameters<typeof DeepLakeVectorStore>[0]> = {}): DeepLakeVectorStore {
  return new DeepLakeVectorStore({ path: "hub://acme/support-docs", token, retryDelayMs: 0, ...options });
}
