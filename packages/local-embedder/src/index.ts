export {
  LocalEmbedder,
  DEFAULT_LOCAL_MODEL,
  localEmbedderOptionsSchema,
  type LocalEmbedderOptions,
} from "./local-embedder.js";
export {
  ModelFilesNotFoundError,
  MODEL_DIR_ENV,
  candidateModelDirs,
  onnxFileByDtype,
  requiredModelFiles,
  type ModelSource,
  type OnnxDtype,
} from "./model-files.js";
export { poolAndNormalize, normalize, type Pooling, type TokenOutputs } from "./pooling.js";
