import { httpError, type HttpError } from "./http-errors.js";

/*
 * Reading a JSON request body from a fetch Request, with the checks the
 * Express router's body-parser made: JSON media types only, UTF-8 only,
 * gzip/deflate (and br where the runtime can) Content-Encoding, a size limit
 * on the decoded bytes (so a small compressed bomb is refused too), and only
 * an object or array at the top (a bare string or number is INVALID_JSON).
 */

export type BodyResult = { kind: "none" } | { kind: "json"; value: unknown } | { kind: "error"; error: HttpError };

const jsonType = /^application\/(?:json|[\w.+-]+\+json)$/i;

function mediaTypeError(contentType: string | null): HttpError | null {
  const [type = "", ...params] = (contentType ?? "").split(";").map((part) => part.trim());
  if (!jsonType.test(type)) return httpError("UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json");
  for (const param of params) {
    const [name, value = ""] = param.split("=").map((s) => s.trim());
    if (name?.toLowerCase() === "charset" && !/^"?utf-8"?$/i.test(value)) return httpError("UNSUPPORTED_MEDIA_TYPE", "The request body must be UTF-8 JSON");
  }
  return null;
}

const tooLarge = () => httpError("PAYLOAD_TOO_LARGE", "The request body is larger than this server accepts");

/** The body's bytes, or null once more than `limit` arrived (the rest is not read). */
async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

type Format = "gzip" | "deflate" | "br";

function decoders(header: string | null): Format[] | HttpError {
  const codings = (header ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  const formats: Format[] = [];
  for (const coding of codings) {
    const format = coding === "x-gzip" ? "gzip" : coding;
    if (format !== "gzip" && format !== "deflate" && format !== "br") {
      return httpError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Content-Encoding: send the body as is, or gzip, deflate or br");
    }
    formats.push(format);
  }
  // Applied last first: "gzip, br" was gzipped, then brotli'd.
  return formats.reverse();
}

function decompress(stream: ReadableStream<Uint8Array>, format: Format): ReadableStream<Uint8Array> | HttpError {
  try {
    return stream.pipeThrough(new DecompressionStream(format as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  } catch {
    // Runtimes without brotli in DecompressionStream (Node 20).
    return httpError("UNSUPPORTED_MEDIA_TYPE", `This server cannot read Content-Encoding ${format}: send the body as is, or gzip`);
  }
}

async function readDecoded(request: Request, raw: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | HttpError> {
  const formats = decoders(request.headers.get("content-encoding"));
  if (!Array.isArray(formats)) return formats;
  let stream = raw;
  for (const format of formats) {
    const next = decompress(stream, format);
    if (!(next instanceof ReadableStream)) return next;
    stream = next;
  }
  try {
    return (await readLimited(stream, limit)) ?? tooLarge();
  } catch {
    return formats.length > 0
      ? httpError("INVALID_JSON", "The request body could not be decompressed as its Content-Encoding says")
      : httpError("INVALID_JSON", "The request body could not be read");
  }
}

function parseJson(bytes: Uint8Array): BodyResult {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "error", error: httpError("INVALID_JSON", "The request body is not valid UTF-8") };
  }
  // Strict like body-parser: only an object or an array at the top.
  const first = text.replace(/^[\s\uFEFF]+/, "")[0];
  if (first !== "{" && first !== "[") return { kind: "error", error: httpError("INVALID_JSON", "The request body is not valid JSON") };
  try {
    return { kind: "json", value: JSON.parse(text) as unknown };
  } catch {
    return { kind: "error", error: httpError("INVALID_JSON", "The request body is not valid JSON") };
  }
}

/**
 * The request's JSON body; `none` when it has no body at all (no bytes, and
 * no Content-Length or a zero one).
 */
export async function readJsonBody(request: Request, limit: number): Promise<BodyResult> {
  const body = request.body;
  const length = request.headers.get("content-length");
  if (body === null || length?.trim() === "0") return { kind: "none" };
  const declared = length !== null || request.headers.get("transfer-encoding") !== null;
  if (length !== null && Number(length) > limit && request.headers.get("content-encoding") === null) return { kind: "error", error: tooLarge() };

  let raw: ReadableStream<Uint8Array> = body;
  if (!declared) {
    // Neither header: a fetch Request built in code. An empty body is no body.
    const bytes = await readLimited(body, limit).catch(() => null);
    if (bytes === null) return { kind: "error", error: tooLarge() };
    if (bytes.byteLength === 0) return { kind: "none" };
    raw = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  }
  const typeError = mediaTypeError(request.headers.get("content-type"));
  if (typeError) {
    void raw.cancel().catch(() => {});
    return { kind: "error", error: typeError };
  }
  const bytes = await readDecoded(request, raw, limit);
  if (!(bytes instanceof Uint8Array)) return { kind: "error", error: bytes };
  return parseJson(bytes);
}
