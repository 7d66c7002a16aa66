export { DeepLakeVectorStore, type DeepLakeVectorStoreOptions } from "./deeplake-vector-store.js";
export type { MetadataFilter } from "./tql.js";
