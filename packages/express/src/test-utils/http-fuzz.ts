/**
 * Raw HTTP requests and fast-check arbitraries for probing a server from
 * outside, as a hostile or careless client would: malformed percent-encoding,
 * odd charsets and encodings, broken gzip, bodies of every shape.
 */
import { request } from "node:http";
import { gzipSync } from "node:zlib";
import { errorBodySchema, ERROR_CODES } from "@zip/deep-memory-protocol";
import fc from "fast-check";

export interface RawRequest {
  method: string;
  /** Sent byte for byte: no normalisation or encoding. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** No complete response within the time limit. */
  timedOut: boolean;
}

/** One request over a fresh connection; never throws for what the server answers. */
export function sendRaw(baseUrl: string, req: RawRequest, timeoutMs = 5000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: "close", ...req.headers };
    if (req.body !== undefined && headers["transfer-encoding"] === undefined) headers["content-length"] = String(req.body.length);
    const outgoing = request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, insecureHTTPParser: false });
    const timer = setTimeout(() => {
      outgoing.destroy();
      resolve({ status: 0, headers: {}, text: "", timedOut: true });
    }, timeoutMs);
    outgoing.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8"), timedOut: false });
      });
      res.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    outgoing.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });
}

/** Counterexamples print as one readable line instead of a Buffer's bytes. */
export function withShortPrint<T extends { req: RawRequest }>(value: T): T {
  return Object.assign(value, {
    [fc.toStringMethod]: () => {
      const body = value.req.body === undefined ? "" : ` body ${JSON.stringify(value.req.body.toString("utf8").slice(0, 120))} (${value.req.body.length} bytes)`;
      return `${value.req.method} ${value.req.path} ${JSON.stringify(value.req.headers)}${body}`;
    },
  });
}

export type Violation = string;

/**
 * What every answer must be: no 5xx, no hang, JSON (or an event stream, or
 * no content at all), and an error body with a known code for every 4xx.
 */
export function responseViolations(req: RawRequest, res: RawResponse, options: { eventStreamAllowed?: boolean } = {}): Violation[] {
  if (res.timedOut) return ["no answer in time (hang)"];
  const out: Violation[] = [];
  if (res.status >= 500) out.push(`status ${res.status}`);
  const type = String(res.headers["content-type"] ?? "");
  if (res.status === 204 || res.status === 304) return out;
  if (/^text\/event-stream/.test(type) && options.eventStreamAllowed && res.status === 200) return out;
  if (!/^application\/json/.test(type)) out.push(`content-type ${JSON.stringify(type)} (${res.text.slice(0, 80).replace(/\s+/g, " ")})`);
  if (req.method === "HEAD") return out;
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    out.push("body is not JSON");
    return out;
  }
  if (res.status >= 400) {
    const parsed = errorBodySchema.safeParse(json);
    if (!parsed.success) out.push("error body without { error: { code, message } }");
    else if (!(ERROR_CODES as string[]).includes(parsed.data.error.code)) out.push(`unknown error code ${parsed.data.error.code}`);
  }
  if (/node_modules|\bat \w+ \(|Error: /.test(res.text)) out.push("a stack trace in the body");
  return out;
}

// ---------------------------------------------------------------- arbitraries

/** Path segments that break naive decoding or routing. */
export const nastySegments = [
  "%ZZ",
  "%",
  "%E0%A4%A",
  "%C0%AF",
  "%ED%A0%80", // an encoded lone surrogate: decodeURIComponent throws
  "%00",
  "%FF%FE",
  "..",
  "%2e%2e",
  "a%2Fb",
  "%F0%9F%98%80",
  "x".repeat(300),
  "%u0041",
  "null",
  "0",
  "-1",
] as const;

/** A path segment: a valid id, a random string encoded, or something malformed. */
export function segmentArbitrary(validIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...validIds.map((id) => encodeURIComponent(id))),
    fc.uuid().map((id) => id),
    fc.string({ unit: "grapheme", maxLength: 40 }).map(safeEncode),
    fc.string({ unit: "binary", maxLength: 20 }).map(safeEncode),
    fc.constantFrom(...nastySegments),
  );
}

/** encodeURIComponent, or a malformed sequence where the string has no UTF-8 form (a lone surrogate). */
function safeEncode(value: string): string {
  try {
    return encodeURIComponent(value) || "%20";
  } catch {
    return "%ED%A0%80";
  }
}

const queryKeys = ["limit", "offset", "last_event_id", "lastEventId", "user_id", "k", "x", "", "limit[]", "__proto__", "constructor"] as const;
const queryValues = fc.oneof(
  fc.constantFrom("1", "0", "-1", "20", "100", "101", "1.5", "abc", "", "1e3", "9007199254740993", "%ZZ", "%00", "%ED%A0%80", "a%2Cb"),
  fc.string({ maxLength: 12 }).map(safeEncode),
);

export const queryArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...queryKeys), queryValues), { minLength: 1, maxLength: 3 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
  },
  { weight: 1, arbitrary: fc.constantFrom("?", "?&&", "?limit", "?%ZZ=1", "?limit=1&limit=2") },
);

/** JSON text carrying what PostgreSQL text cannot hold. */
const unstorableJsonStrings = ['"a\\u0000b"', '"\\ud800"', '"x\\udc00y"', '"\\u0000"'];

/** A value for a field: of the right kind or not, storable or not. */
function fieldValueText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.json({ maxDepth: 1 }),
    fc.constantFrom(...unstorableJsonStrings),
    fc.constantFrom("true", "false", "null", "0", "-1", "1", "5", "1.5", "1e309", '""', '"  "', "[]", "{}", `"${"q".repeat(3000)}"`),
    fc.uuid().map((id) => JSON.stringify(id)),
  );
}

/** A JSON object text built from the route's known fields (and sometimes an unknown one), values of any kind. */
function shapedObjectText(fields: readonly string[]): fc.Arbitrary<string> {
  const names = [...fields, "user_id", "__proto__", "extra"];
  return fc
    .array(fc.tuple(fc.constantFrom(...names), fieldValueText()), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`);
}

export interface BodyCase {
  label: string;
  bytes: Buffer | undefined;
}

/** Request bodies: none, JSON of every shape, strings a store cannot keep, garbage, too large. */
export function bodyArbitrary(fields: readonly string[], validBodies: readonly string[], bodyLimit: number): fc.Arbitrary<BodyCase> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ label: "none", bytes: undefined }) },
    { weight: 2, arbitrary: fc.constantFrom(...validBodies).map((text) => ({ label: "valid", bytes: Buffer.from(text) })) },
    { weight: 4, arbitrary: shapedObjectText(fields).map((text) => ({ label: "shaped", bytes: Buffer.from(text) })) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ label: "json", bytes: Buffer.from(text) })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...["", "{", "{not json", "[", '"str', "nul", "\u0000", "{}garbage", '{"a":1,}', "\ufeff{}", "{\"pairs\":[{\"question\":\"\\u0000\"}]}"],
      ).map((text) => ({ label: "broken", bytes: Buffer.from(text) })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ label: "bytes", bytes: Buffer.from(bytes) })) },
    { weight: 1, arbitrary: fc.constant({ label: "too large", bytes: Buffer.from(JSON.stringify({ query: "x".repeat(bodyLimit + 10) })) }) },
  );
}

export interface EncodingCase {
  label: string;
  headers: Record<string, string>;
  encode: (body: Buffer) => Buffer;
}

const identity = (body: Buffer) => body;

/** Content-Type and Content-Encoding pairs, valid and not. */
export const encodingArbitrary: fc.Arbitrary<EncodingCase> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom<EncodingCase>(
      { label: "json", headers: { "content-type": "application/json" }, encode: identity },
      { label: "json utf-8", headers: { "content-type": "application/json; charset=utf-8" }, encode: identity },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom<EncodingCase>(
      { label: "no type", headers: {}, encode: identity },
      { label: "latin1", headers: { "content-type": "application/json; charset=latin1" }, encode: identity },
      { label: "utf-16", headers: { "content-type": "application/json; charset=utf-16" }, encode: identity },
      { label: "bogus charset", headers: { "content-type": "application/json; charset=no-such" }, encode: identity },
      { label: "text", headers: { "content-type": "text/plain" }, encode: identity },
      { label: "form", headers: { "content-type": "application/x-www-form-urlencoded" }, encode: identity },
      { label: "malformed type", headers: { "content-type": "application/json;;;=" }, encode: identity },
      { label: "problem+json", headers: { "content-type": "application/problem+json" }, encode: identity },
      { label: "gzip", headers: { "content-type": "application/json", "content-encoding": "gzip" }, encode: (b) => gzipSync(b) },
      { label: "bad gzip", headers: { "content-type": "application/json", "content-encoding": "gzip" }, encode: identity },
      { label: "bad deflate", headers: { "content-type": "application/json", "content-encoding": "deflate" }, encode: identity },
      { label: "bad br", headers: { "content-type": "application/json", "content-encoding": "br" }, encode: identity },
      { label: "unknown encoding", headers: { "content-type": "application/json", "content-encoding": "x-zip" }, encode: identity },
      { label: "gzip twice", headers: { "content-type": "application/json", "content-encoding": "gzip, gzip" }, encode: (b) => gzipSync(gzipSync(b)) },
      { label: "truncated gzip", headers: { "content-type": "application/json", "content-encoding": "gzip" }, encode: (b) => gzipSync(b).subarray(0, 12) },
    ),
  },
);

/** Extra headers a client might send. */
export const extraHeadersArbitrary: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    accept: fc.constantFrom("application/json", "text/html", "*/*", "text/event-stream", "image/png"),
    "last-event-id": fc.constantFrom("1", "0", "-1", "abc", "99999999999999999999", " 2 "),
    "idempotency-key": fc.oneof(fc.uuid(), fc.constantFrom("", "k", "x".repeat(300), "é")),
    "x-forwarded-for": fc.constant("10.0.0.1"),
  },
  { requiredKeys: [] },
);

/** A route random requests aim at: its method, its path with one `{id}` where a segment goes, and the body fields and valid bodies to start from. */
export interface FuzzTarget {
  name: string;
  method: string;
  path: string;
  fields: readonly string[];
  valid: readonly string[];
}

export interface RequestArbitraryOptions<T extends FuzzTarget> {
  targets: readonly T[];
  /** What goes where a target's `{id}` stands. */
  segment: fc.Arbitrary<string>;
  /** Who a request speaks as, by the user header; null sends none. */
  users: readonly (string | null)[];
  userHeader: string;
  bodyLimit: number;
  /** How often a request keeps its target's method, against once for any of `otherMethods`. */
  ownMethodWeight: number;
  otherMethods: readonly string[];
}

/** A request at one of the targets, mutated in every part a client controls: the id segment, query, encoding, headers, user, method and body. */
export function requestArbitrary<T extends FuzzTarget>(options: RequestArbitraryOptions<T>): fc.Arbitrary<{ target: T; req: RawRequest }> {
  return fc
    .record({
      target: fc.constantFrom(...options.targets),
      segment: options.segment,
      query: queryArbitrary,
      encoding: encodingArbitrary,
      extra: extraHeadersArbitrary,
      user: fc.constantFrom<string | null>(...options.users),
      otherMethod: fc.oneof(
        { weight: options.ownMethodWeight, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...options.otherMethods) },
      ),
    })
    .chain((r) =>
      bodyArbitrary(r.target.fields, r.target.valid, options.bodyLimit).map((body) => {
        const headers: Record<string, string> = { ...r.extra, ...r.encoding.headers };
        if (r.user !== null) headers[options.userHeader] = r.user;
        const req: RawRequest = {
          method: r.otherMethod ?? r.target.method,
          path: `${r.target.path.replace("{id}", r.segment)}${r.query}`,
          headers,
          body: body.bytes === undefined ? undefined : r.encoding.encode(body.bytes),
        };
        return withShortPrint({ target: r.target, req });
      }),
    );
}

/** fc.assert's run count and seed, from FUZZ_RUNS and FUZZ_SEED when set (to rerun a failure or probe longer). */
export function fuzzRunOptions(defaultRuns: number): { numRuns: number; seed: number | undefined } {
  return { numRuns: Number(process.env.FUZZ_RUNS ?? defaultRuns), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined };
}
