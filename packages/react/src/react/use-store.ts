import { useSyncExternalStore } from "react";
import type { ReadableStore } from "../client/store.js";

/** Reads a store; during a server render (and hydration) its initial state, without subscribing or fetching. */
export function useStore<T>(store: ReadableStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);
}

const noSubscription = () => () => {};

/** A store that never changes: what hooks read while they have nothing to follow (no run id yet, say). */
export function constantStore<T>(value: T): ReadableStore<T> {
  const get = () => value;
  return { subscribe: noSubscription, getSnapshot: get, getServerSnapshot: get };
}
