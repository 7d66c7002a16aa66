import { ValidationError } from "./errors.js";

/** Parses with a zod schema, turning failures into one ValidationError listing every field: the engine's, shared. */
export { parseOrThrow } from "@zip/deep-memory-engine";


/** The ids a `VectorStore.getEmbeddings` call asks for, checked the same way by every store: a list of strings. */
export function requireChunkIds(ids: unknown): readonly string[] {
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
    throw new ValidationError("ids must be an array of strings", [{ path: "ids", message: "an array of strings" }]);
  }
  return ids;
}
