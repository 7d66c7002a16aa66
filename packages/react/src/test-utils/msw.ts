import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { createFakeApi, type FakeApi, type FakeApiOptions } from "./fake-api.js";

/**
 * Installs msw for the calling test file and gives each test a fresh fake
 * API. Unhandled requests fail the test: nothing may reach the network.
 */
export function setupFakeApi(options: FakeApiOptions = {}): { readonly api: FakeApi; readonly server: ReturnType<typeof setupServer> } {
  const server = setupServer();
  let api: FakeApi | undefined;
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  beforeEach(() => {
    api = createFakeApi(options);
    server.use(...api.handlers);
  });
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return {
    get api() {
      if (!api) throw new Error("setupFakeApi: the fake API exists only inside a test");
      return api;
    },
    server,
  };
}

/** Resolves after pending microtasks and one macrotask: lets deferred closes and stream reads run. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
