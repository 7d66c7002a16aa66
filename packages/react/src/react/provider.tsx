import { createContext, useContext, useMemo, useRef, type ReactNode } from "react";
import { createDeepMemoryClient, type DeepMemoryClient, type DeepMemoryClientOptions } from "../client/client.js";
import { useBeforeLayoutEffect } from "./use-latest.js";

const DeepMemoryContext = createContext<DeepMemoryClient | null>(null);
DeepMemoryContext.displayName = "DeepMemoryContext";

export type DeepMemoryProviderProps = { children?: ReactNode } & (
  | { client: DeepMemoryClient }
  | (DeepMemoryClientOptions & { client?: undefined })
);

/**
 * Makes a deep-memory client available to the hooks below it. Pass a client
 * you created (to share it, or use it outside React too) or the client's
 * options. With options, the client is created once per `baseUrl`; `headers`,
 * `fetch` and an `eventsUrl` function may change on every render (the latest
 * ones are used for the next request), the other options are read once.
 */
export function DeepMemoryProvider(props: DeepMemoryProviderProps): ReactNode {
  const latest = useRef(props);
  useBeforeLayoutEffect(() => {
    latest.current = props;
  });

  const { client: given, children } = props;
  const options = given === undefined ? (props as DeepMemoryClientOptions) : undefined;
  const baseUrl = options?.baseUrl;
  const eventsUrlKey = typeof options?.eventsUrl === "function" ? "function" : options?.eventsUrl;
  const credentials = options?.credentials;

  const client = useMemo(() => {
    if (options === undefined) return given!;
    // This render's props make the client; only the callbacks below read the latest ones, when a request is made.
    const current = (): DeepMemoryClientOptions => latest.current as DeepMemoryClientOptions;
    // eslint-disable-next-line react-hooks/refs -- the client calls these closures on requests, never while rendering
    return createDeepMemoryClient({
      ...options,
      fetch: (input, init) => {
        const fetchImpl = current().fetch;
        return fetchImpl ? fetchImpl(input, init) : globalThis.fetch(input, init);
      },
      headers: () => {
        const { headers } = current();
        return typeof headers === "function" ? headers() : headers;
      },
      eventsUrl:
        typeof options.eventsUrl === "function"
          ? (jobId) => {
              const { eventsUrl } = current();
              return typeof eventsUrl === "function" ? eventsUrl(jobId) : `${eventsUrl}/${encodeURIComponent(jobId)}`;
            }
          : options.eventsUrl,
    });
    // The client (and its caches) is recreated only when where it talks to changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [given, baseUrl, eventsUrlKey, credentials]);

  return <DeepMemoryContext.Provider value={client}>{children}</DeepMemoryContext.Provider>;
}

/** The client of the nearest DeepMemoryProvider. */
export function useDeepMemoryClient(): DeepMemoryClient {
  const client = useContext(DeepMemoryContext);
  if (client === null) throw new Error("useDeepMemoryClient (and every deep-memory hook) must be used inside a <DeepMemoryProvider>.");
  return client;
}
