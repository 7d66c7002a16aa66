/** The .wat compiled to wasm bytes. */
export function compileWat(text: string): Promise<Uint8Array>;
/** The generated TypeScript module for those bytes. */
export function renderModule(bytes: Uint8Array): string;
