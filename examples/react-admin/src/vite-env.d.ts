/// <reference types="vite/client" />

// The variables this app reads (Vite types the rest of import.meta.env as any).
interface ImportMetaEnv {
  /** Where the API lives; same origin when unset. */
  readonly VITE_API_URL?: string;
}
