export {
  readModelFile,
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  modelFileHeaderSchema,
  type ModelFile,
  type ModelFileHeader,
} from "./trainer/model-file-format.js";
