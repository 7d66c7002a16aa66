import { cleanup, render, renderHook, type RenderHookResult, type RenderResult } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { afterEach } from "vitest";
import { createDeepMemoryClient, type DeepMemoryClient, type DeepMemoryClientOptions } from "../client/client.js";
import { DeepMemoryProvider } from "../react/provider.js";
import { BASE_URL } from "./fake-api.js";

// Testing Library cleans up after each test only where the test runner has globals; vitest's do not.
afterEach(() => cleanup());

export interface RenderOptions {
  strict?: boolean;
  client?: DeepMemoryClient;
  clientOptions?: Partial<DeepMemoryClientOptions>;
}

export function makeClient(options: Partial<DeepMemoryClientOptions> = {}): DeepMemoryClient {
  return createDeepMemoryClient({ baseUrl: BASE_URL, stream: { retryMs: 10 }, ...options });
}

function wrapperFor(options: RenderOptions) {
  const client = options.client ?? makeClient(options.clientOptions);
  const Wrapper = ({ children }: { children: ReactNode }) => {
    const tree = <DeepMemoryProvider client={client}>{children}</DeepMemoryProvider>;
    return options.strict ? <StrictMode>{tree}</StrictMode> : tree;
  };
  return { client, Wrapper };
}

export function renderHookWithClient<T>(hook: () => T, options: RenderOptions = {}): RenderHookResult<T, unknown> & { client: DeepMemoryClient } {
  const { client, Wrapper } = wrapperFor(options);
  return Object.assign(renderHook(hook, { wrapper: Wrapper }), { client });
}

export function renderWithClient(ui: ReactNode, options: RenderOptions = {}): RenderResult & { client: DeepMemoryClient } {
  const { client, Wrapper } = wrapperFor(options);
  return Object.assign(render(ui, { wrapper: Wrapper }), { client });
}
