import { createHash } from "node:crypto";
import * as z from "zod";
import { generationSettingsSchema } from "../domain/run.js";
import { ModelFileInvalidError } from "../errors/errors.js";

/**
 * A trained model as one portable file, so a model trained in CI can ship
 * with an app. Layout (all integers little-endian):
 *
 *   8 bytes   magic: 0x89 "ZDM" CR LF 0x1A LF (PNG-style: a transfer in text
 *             mode or a truncated first line shows up as a wrong magic)
 *   4 bytes   header length H (uint32)
 *   H bytes   header: UTF-8 JSON, see `modelFileHeaderSchema`
 *   N bytes   the engine's weights, N = header.weightsByteLength
 *   32 bytes  SHA-256 of every byte before it
 *
 * The checksum covers the header too, so a damaged embedding-model name is
 * reported as damage, not as a model for another embedder.
 */
export const MODEL_FILE_MAGIC = Uint8Array.of(0x89, 0x5a, 0x44, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a);
export const MODEL_FILE_FORMAT = "zip-deep-memory-model";
export const MODEL_FILE_VERSION = 1;
/** Metrics and provenance are a few kilobytes; anything near this is not a header. */
const maxHeaderBytes = 1 << 20;
const checksumBytes = 32;
const fixedBytes = MODEL_FILE_MAGIC.length + 4 + checksumBytes;

export const modelFileHeaderSchema = z.object({
  fileFormat: z.literal(MODEL_FILE_FORMAT),
  fileVersion: z.number().int().positive(),
  /** The engine that trained it, e.g. "local-deep-memory". */
  engine: z.string().min(1),
  /** The engine's weight layout, e.g. "local-residual/v3". */
  format: z.string().min(1),
  /** Query embedding size the model transforms. */
  dimensions: z.number().int().positive(),
  /** The embedding model whose vectors it was trained on; a loader refuses any other. */
  embeddingModel: z.string().min(1),
  /** The run's metrics where it was trained (held-out recall with and without, the verdict, the training report). */
  metrics: z.record(z.string(), z.unknown()),
  /** When the model was trained (ISO 8601). */
  createdAt: z.iso.datetime(),
  exportedAt: z.iso.datetime(),
  /** Where it came from, for the record: the run and how its training pairs were made. */
  source: z.object({
    runId: z.string().min(1),
    generation: generationSettingsSchema,
    pairCount: z.number().int().nonnegative(),
  }),
  weightsByteLength: z.number().int().nonnegative(),
});
export type ModelFileHeader = z.infer<typeof modelFileHeaderSchema>;

export interface ModelFile {
  header: ModelFileHeader;
  weights: Uint8Array;
  /** Hex SHA-256 of the file (its last 32 bytes): identifies the file, e.g. to import it once. */
  sha256: string;
}

export function encodeModelFile(header: Omit<ModelFileHeader, "fileFormat" | "fileVersion" | "weightsByteLength">, weights: Uint8Array): Uint8Array {
  const full: ModelFileHeader = { fileFormat: MODEL_FILE_FORMAT, fileVersion: MODEL_FILE_VERSION, ...header, weightsByteLength: weights.byteLength };
  const json = new TextEncoder().encode(JSON.stringify(full));
  if (json.byteLength > maxHeaderBytes) throw new ModelFileInvalidError(`The model's header would be ${json.byteLength} bytes; at most ${maxHeaderBytes} fit`);
  const bytes = new Uint8Array(fixedBytes + json.byteLength + weights.byteLength);
  bytes.set(MODEL_FILE_MAGIC, 0);
  new DataView(bytes.buffer).setUint32(MODEL_FILE_MAGIC.length, json.byteLength, true);
  bytes.set(json, MODEL_FILE_MAGIC.length + 4);
  bytes.set(weights, MODEL_FILE_MAGIC.length + 4 + json.byteLength);
  const bodyEnd = bytes.length - checksumBytes;
  bytes.set(sha256(bytes.subarray(0, bodyEnd)), bodyEnd);
  return bytes;
}

/**
 * Reads and verifies a model file without loading it into an engine.
 * @throws ModelFileInvalidError for anything but a complete, undamaged file of a version this package reads.
 */
export function readModelFile(file: Uint8Array): ModelFile {
  const invalid = (problem: string) => new ModelFileInvalidError(`Not a usable deep-memory model file: ${problem}`, { details: { problem } });
  if (!(file instanceof Uint8Array)) throw invalid("expected the file's bytes as a Uint8Array (or Buffer)");
  if (file.byteLength < fixedBytes || !MODEL_FILE_MAGIC.every((b, i) => file[i] === b)) {
    throw invalid("it does not start with the model-file signature (another kind of file, or damaged in transfer, e.g. opened as text)");
  }
  const bodyEnd = file.byteLength - checksumBytes;
  const expected = file.subarray(bodyEnd);
  if (!sha256(file.subarray(0, bodyEnd)).every((b, i) => expected[i] === b)) {
    throw invalid("its SHA-256 checksum does not match its contents (truncated or damaged)");
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = view.getUint32(MODEL_FILE_MAGIC.length, true);
  const headerStart = MODEL_FILE_MAGIC.length + 4;
  if (headerLength > maxHeaderBytes || headerStart + headerLength > bodyEnd) throw invalid(`its header length ${headerLength} does not fit the file`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(file.subarray(headerStart, headerStart + headerLength)));
  } catch {
    throw invalid("its header is not UTF-8 JSON");
  }
  const version = (json as { fileVersion?: unknown } | null)?.fileVersion;
  if (typeof version === "number" && version > MODEL_FILE_VERSION) {
    throw invalid(`it is version ${version} of the format; this package reads version ${MODEL_FILE_VERSION}: upgrade @zip/deep-memory`);
  }
  const parsed = modelFileHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw invalid(`its header is not a model-file header (${fields})`);
  }
  const header = parsed.data;
  const weightsStart = headerStart + headerLength;
  if (weightsStart + header.weightsByteLength !== bodyEnd) {
    throw invalid(`the header announces ${header.weightsByteLength} bytes of weights but the file holds ${bodyEnd - weightsStart}`);
  }
  // A copy: the caller's buffer may be reused or pooled (Node's Buffer), the stored weights must not move with it.
  return { header, weights: file.slice(weightsStart, bodyEnd), sha256: Buffer.from(expected).toString("hex") };
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}
