export type Listener = () => void;

/**
 * What `useSyncExternalStore` (and any other UI binding) needs. Function
 * properties, not methods: bindings call them detached from the store.
 */
export interface ReadableStore<T> {
  /** Registers a listener called after every change; returns the unsubscribe. */
  readonly subscribe: (listener: Listener) => () => void;
  /** The current state: the same object until something changes. */
  readonly getSnapshot: () => T;
  /** The state a server render (and hydration) sees: the initial one, before any request. */
  readonly getServerSnapshot: () => T;
}

/**
 * An observable value with reference-counted activity: `activate` runs when
 * the first subscriber arrives and `deactivate` when the last one leaves.
 * Deactivation waits a microtask, so an unsubscribe immediately followed by a
 * subscribe (React StrictMode's simulated unmount and remount, or one
 * component handing over to another in the same commit) keeps the same
 * request or stream instead of closing and reopening it.
 */
export abstract class Store<T> implements ReadableStore<T> {
  private readonly listeners = new Set<{ listener: Listener }>();
  private readonly activityListeners = new Set<(active: boolean) => void>();
  private snapshot: T;
  private readonly initial: T;
  private active = false;
  private deactivation = 0;

  protected constructor(initial: T) {
    this.snapshot = initial;
    this.initial = initial;
  }

  readonly subscribe = (listener: Listener): (() => void) => {
    // An entry per call, so the same function subscribed twice counts twice.
    const entry = { listener };
    this.listeners.add(entry);
    if (this.listeners.size === 1) {
      this.deactivation++;
      if (!this.active) {
        this.active = true;
        this.activate();
        for (const onActivity of [...this.activityListeners]) onActivity(true);
      }
    }
    return () => {
      if (!this.listeners.delete(entry) || this.listeners.size > 0) return;
      const ticket = ++this.deactivation;
      queueMicrotask(() => {
        if (ticket !== this.deactivation || this.listeners.size > 0 || !this.active) return;
        this.active = false;
        this.deactivate();
        for (const onActivity of [...this.activityListeners]) onActivity(false);
      });
    };
  };

  /**
   * Told `true` when the first subscriber arrives and `false` when the store
   * goes idle (no subscriber left): how a cache collects stores nobody reads.
   */
  readonly onActivity = (listener: (active: boolean) => void): (() => void) => {
    this.activityListeners.add(listener);
    return () => {
      this.activityListeners.delete(listener);
    };
  };

  readonly getSnapshot = (): T => this.snapshot;

  readonly getServerSnapshot = (): T => this.initial;

  /** How many subscribers the store has now. */
  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Whether the store is active: it has subscribers, or lost the last one less than a microtask ago. */
  protected get isActive(): boolean {
    return this.active;
  }

  protected setSnapshot(next: T): void {
    if (Object.is(next, this.snapshot)) return;
    this.snapshot = next;
    for (const { listener } of [...this.listeners]) listener();
  }

  protected update(patch: Partial<T>): void {
    this.setSnapshot({ ...this.snapshot, ...patch });
  }

  /** The first subscriber arrived. */
  protected activate(): void {}

  /** The last subscriber left (and no new one came within a microtask). */
  protected deactivate(): void {}
}
