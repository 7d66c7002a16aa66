export interface EmbedOptions {
  /** Some models embed queries and documents differently (e.g. an instruction prefix). */
  kind?: "query" | "document";
  signal?: AbortSignal;
}

export interface Embedder {
  /** Model name; stored with every trained model so a model is never applied to another model's vectors. */
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
}
