import { type DeepMemoryClientError, toClientError } from "./errors.js";
import { Store } from "./store.js";

export interface QuerySnapshot<T> {
  /** "pending" until the first answer; "error" when the request failed and there is no data to show. */
  status: "pending" | "success" | "error";
  data: T | undefined;
  /** The last request's failure; cleared by the next success. Data from an earlier success is kept. */
  error: DeepMemoryClientError | null;
  /** A request is in flight (the first one or a refetch). */
  isFetching: boolean;
  /** When `data` arrived (ms since the epoch); null before the first answer. */
  updatedAt: number | null;
}

export interface QueryStoreOptions {
  /** How long data counts as fresh; a subscriber arriving after that refetches. Default 0: every (re)mount refetches. */
  staleTimeMs?: number;
}

/**
 * One GET resource, cached and shared: the first subscriber fetches it,
 * later ones reuse it; `invalidate` refetches it now when someone is watching
 * and on the next subscribe otherwise. Nothing is fetched before a subscribe,
 * so creating the store during a server render costs nothing.
 */
export class QueryStore<T> extends Store<QuerySnapshot<T>> {
  private inFlight: { promise: Promise<T | undefined>; controller: AbortController } | null = null;
  private stale = true;
  private readonly staleTimeMs: number;

  constructor(
    private readonly fetcher: (signal: AbortSignal) => Promise<T>,
    options: QueryStoreOptions = {},
  ) {
    super({ status: "pending", data: undefined, error: null, isFetching: false, updatedAt: null });
    this.staleTimeMs = options.staleTimeMs ?? 0;
  }

  /**
   * Fetches unless a request is already in flight (then returns that one).
   * Resolves to the data, or undefined when the request failed (the error is
   * in the snapshot) or was superseded.
   */
  fetch(): Promise<T | undefined> {
    return this.inFlight?.promise ?? this.start();
  }

  /** Fetches now, replacing a request in flight (whose answer may predate a change). */
  refetch(): Promise<T | undefined> {
    this.inFlight?.controller.abort();
    this.inFlight = null;
    return this.start();
  }

  /** Marks the data out of date: refetched now if anyone is watching, else on the next subscribe. */
  invalidate(): void {
    this.stale = true;
    if (this.isActive) void this.refetch();
  }

  /** Replaces the data (e.g. with a mutation's response), cancelling a request in flight. */
  setData(data: T): void {
    this.inFlight?.controller.abort();
    this.inFlight = null;
    this.stale = false;
    this.update({ status: "success", data, error: null, isFetching: false, updatedAt: Date.now() });
  }

  protected override activate(): void {
    const { updatedAt } = this.getSnapshot();
    const expired = updatedAt === null || Date.now() - updatedAt >= this.staleTimeMs;
    if ((this.stale || expired) && !this.inFlight) void this.start();
  }

  private start(): Promise<T | undefined> {
    const controller = new AbortController();
    const promise = this.run(controller);
    this.inFlight = { promise, controller };
    return promise;
  }

  private async run(controller: AbortController): Promise<T | undefined> {
    this.update({ isFetching: true });
    try {
      const data = await this.fetcher(controller.signal);
      if (controller.signal.aborted) return undefined;
      this.inFlight = null;
      this.stale = false;
      this.update({ status: "success", data, error: null, isFetching: false, updatedAt: Date.now() });
      return data;
    } catch (error) {
      // Superseded by a refetch or setData, which own the snapshot now.
      if (controller.signal.aborted) return undefined;
      this.inFlight = null;
      const { data } = this.getSnapshot();
      this.update({ status: data === undefined ? "error" : "success", error: toClientError(error), isFetching: false });
      return undefined;
    }
  }
}
