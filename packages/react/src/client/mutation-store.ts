import { type DeepMemoryClientError, toClientError } from "./errors.js";
import { Store } from "./store.js";

export interface MutationSnapshot<TVariables, TData> {
  status: "idle" | "pending" | "success" | "error";
  /** The latest call's variables. */
  variables: TVariables | undefined;
  /** The latest successful call's result; kept while a new call is pending, cleared when one fails. */
  data: TData | undefined;
  error: DeepMemoryClientError | null;
  isPending: boolean;
}

export interface MutationStoreOptions {
  /** Abort the previous call when a new one starts (searches); otherwise it runs on but its answer is ignored. */
  abortPrevious?: boolean;
}

const idle = { status: "idle", variables: undefined, data: undefined, error: null, isPending: false } as const;

/**
 * One action (POST/PUT) and the state of its latest call. The latest call
 * wins: an earlier call that answers later never overwrites its state.
 */
export class MutationStore<TVariables, TData> extends Store<MutationSnapshot<TVariables, TData>> {
  private latest = 0;
  private controller: AbortController | null = null;

  constructor(
    private readonly action: (variables: TVariables, signal: AbortSignal) => Promise<TData>,
    private readonly options: MutationStoreOptions = {},
  ) {
    super(idle);
  }

  /** Runs the action; rejects with a DeepMemoryClientError on failure (also kept in the snapshot). */
  async mutateAsync(variables: TVariables): Promise<TData> {
    const call = ++this.latest;
    if (this.options.abortPrevious) this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.update({ status: "pending", variables, isPending: true, error: null });
    try {
      const data = await this.action(variables, controller.signal);
      if (call === this.latest) this.update({ status: "success", data, error: null, isPending: false });
      return data;
    } catch (thrown) {
      const error = toClientError(thrown);
      // The previous call's data would be mistaken for this one's (a stale job id, say).
      if (call === this.latest) this.update({ status: "error", error, data: undefined, isPending: false });
      throw error;
    }
  }

  /** Like {@link mutateAsync} but never rejects: resolves to undefined on failure (see the snapshot's `error`). */
  mutate(variables: TVariables): Promise<TData | undefined> {
    return this.mutateAsync(variables).catch(() => undefined);
  }

  /** Back to idle; a call still in flight no longer updates the state (and is aborted when `abortPrevious`). */
  reset(): void {
    this.latest++;
    if (this.options.abortPrevious) this.controller?.abort();
    this.controller = null;
    this.setSnapshot(idle);
  }
}
