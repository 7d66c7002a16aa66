/** Parses with a zod schema, turning failures into one ValidationError listing every field: the engine's, shared. */
export { parseOrThrow } from "@zip/deep-memory-engine";
