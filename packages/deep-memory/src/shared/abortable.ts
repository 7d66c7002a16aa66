import { AbortedError } from "../errors/errors.js";

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts, whichever
 * comes first: a provider or engine that ignores its signal cannot hold a
 * cancelled job (or closing trainer) open. What the abandoned call returns
 * later is dropped, so it is never recorded.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedError(`${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(`${what} was aborted`));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
