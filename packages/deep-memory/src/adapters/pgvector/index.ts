export {
  PgVectorStore,
  pgvectorChunkSchema,
  type PgVectorStoreOptions,
  type PgVectorConnectOptions,
  type PgVectorChunk,
  type PgVectorDeleteInput,
} from "./pgvector-store.js";
export { pgvectorSchemaSql, type PgVectorSchemaOptions } from "./pgvector-schema.js";
export type { PGliteLike } from "../training-store/sql-clients.js";
