import * as z from "zod";

export const chunkSchema = z.object({
  id: z.string().min(1),
  text: z.string(),
  /** Present when the vector store keeps embeddings and was asked for them. */
  embedding: z.custom<Float32Array>((v) => v instanceof Float32Array, "expected a Float32Array").optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Chunk = z.infer<typeof chunkSchema>;

export { searchHitSchema, type SearchHit } from "@zip/deep-memory-protocol";
