export { DeepMemoryRetriever, type DeepMemoryRetrieverInput, type DeepMemoryRetrieval, type DeepMemorySearchOptions } from "./deep-memory-retriever.js";
export { DeepMemoryEmbeddings, type DeepMemoryEmbeddingsInput } from "./deep-memory-embeddings.js";
export { LangChainEmbedder, type LangChainEmbedderOptions } from "./langchain-embedder.js";
export { LangChainVectorStoreAdapter, type LangChainVectorStoreAdapterOptions, type ScoreConversion } from "./langchain-vector-store-adapter.js";
export {
  listMemoryVectorStore,
  listPGVectorStore,
  type DocumentLister,
  type DocumentPage,
  type ListDocumentsInput,
  type ListedDocument,
} from "./document-listers.js";
export type { DeepMemoryMode, DeepMemorySource, DeepMemoryUsage } from "./deep-memory-source.js";
