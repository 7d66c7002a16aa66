import { useInsertionEffect, useRef, type MutableRefObject } from "react";

/**
 * Runs after render and before layout effects and event handlers, so a ref it
 * sets is current wherever it is read. Unlike useLayoutEffect, which React 18
 * warns about whenever a component renders on the server (or in a test that
 * renders to a string next to a DOM), it is simply skipped there: nothing
 * needs the ref before the component is in a browser.
 */
export const useBeforeLayoutEffect = useInsertionEffect;

/** A ref that always holds the latest value, so callbacks passed to hooks can change without resubscribing. */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const ref = useRef(value);
  useBeforeLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
