import { useEffect, useLayoutEffect, useRef, type MutableRefObject } from "react";

// useLayoutEffect warns during server rendering in React 18; nothing runs there anyway.
export const useIsomorphicLayoutEffect = typeof document !== "undefined" ? useLayoutEffect : useEffect;

/** A ref that always holds the latest value, so callbacks passed to hooks can change without resubscribing. */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
