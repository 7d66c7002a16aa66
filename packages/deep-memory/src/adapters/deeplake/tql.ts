import { ValidationError } from "../../errors/errors.js";

/**
 * Builds the Tensor Query Language (TQL) strings the DeepLake adapter sends,
 * in exactly the shapes Activeloop's Python client (deeplake v3) built. TQL has
 * no bound parameters, so every value that reaches a query goes through the
 * functions here: names are checked, strings are refused when they hold
 * anything that could end the literal, numbers must be finite.
 */

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A tensor name: bare when plain, double-quoted (as TQL allows) when it has other safe characters. */
export function tensorName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  if (/^[A-Za-z0-9_\-/. ]+$/.test(name)) return `"${name}"`;
  throw new ValidationError(`Tensor name ${JSON.stringify(name)} has characters TQL cannot quote safely`, [
    { path: "tensors", message: "letters, digits, _ - / . and spaces only" },
  ]);
}

// eslint-disable-next-line no-control-regex
const UNQUOTABLE = /['\\\u0000-\u001f\u007f]/;

/** Whether stringLiteral takes this value (no quote, backslash or control character). */
export function quotable(value: string): boolean {
  return !UNQUOTABLE.test(value);
}

/**
 * A single-quoted string. TQL documents no escape sequence, so a value with a
 * quote, a backslash or a control character is refused rather than escaped.
 */
export function stringLiteral(value: string, path: string): string {
  if (!quotable(value)) {
    throw new ValidationError(`${path} contains a quote, backslash or control character, which cannot be used in a TQL filter`, [
      { path, message: "no quotes, backslashes or control characters" },
    ]);
  }
  return `'${value}'`;
}

export function numberLiteral(value: number, path: string): string {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ValidationError(`${path} must be a finite number, got ${String(value)}`, [{ path, message: "finite number" }]);
  }
  // Shortest round-trip form; exponents ("1e-7") as Python's str(float) also gives them.
  return String(value);
}

export function nonNegativeInteger(value: number, path: string): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`${path} must be a non-negative integer, got ${String(value)}`, [{ path, message: "non-negative integer" }]);
  }
  return String(value);
}

export type MetadataFilter = Record<string, string | number | boolean>;

/** `metadata['key'] == 'value' and ...`, as the Python client wrote dict filters. */
export function metadataFilter(metadataTensor: string, filter: MetadataFilter | undefined): string {
  if (!filter) return "";
  const terms = Object.entries(filter).map(([key, value]) => {
    const lhs = `${tensorName(metadataTensor)}[${stringLiteral(key, `filter key ${JSON.stringify(key)}`)}]`;
    if (typeof value === "string") return `${lhs} == ${stringLiteral(value, `filter value for ${key}`)}`;
    if (typeof value === "boolean") return `${lhs} == ${value ? "true" : "false"}`;
    return `${lhs} == ${numberLiteral(value, `filter value for ${key}`)}`;
  });
  return terms.join(" and ");
}

/** `ARRAY[v1, v2, ...]`, separated as the Python client separated them. */
export function arrayLiteral(vector: ArrayLike<number>): string {
  const items: string[] = [];
  for (let i = 0; i < vector.length; i++) items.push(numberLiteral(vector[i]!, `embedding[${i}]`));
  if (items.length === 0) throw new ValidationError("The query embedding is empty");
  return `ARRAY[${items.join(", ")}]`;
}

export interface SearchQueryInput {
  returnTensors: string[];
  embeddingTensor: string;
  embedding: ArrayLike<number>;
  k: number;
  filter: string;
}

/**
 * Cosine search: `select <tensors>, score from (select *, COSINE_SIMILARITY(e, ARRAY[..]) as score
 * [where <filter>] order by COSINE_SIMILARITY(e, ARRAY[..]) DESC limit k)`.
 */
export function searchQuery(input: SearchQueryInput): string {
  const distance = `COSINE_SIMILARITY(${tensorName(input.embeddingTensor)}, ${arrayLiteral(input.embedding)})`;
  const where = input.filter ? ` where ${input.filter}` : "";
  const tensors = input.returnTensors.map(tensorName).join(", ");
  return `select ${tensors}, score from (select *, ${distance} as score${where} order by ${distance} DESC limit ${nonNegativeInteger(input.k, "k")})`;
}

/**
 * A query string as a TQL text literal for BM25: characters TQL cannot quote
 * (quotes, backslashes, control characters) become spaces, which BM25's
 * tokenizer treats as separators anyway. Empty when nothing is left.
 */
export function searchTextLiteral(text: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/['\\\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
  return cleaned === "" ? "" : `'${cleaned}'`;
}

export interface TextSearchQueryInput {
  returnTensors: string[];
  textTensor: string;
  /** From searchTextLiteral. */
  textLiteral: string;
  k: number;
  filter: string;
}

/**
 * BM25 search (deeplake 4 TQL; the text tensor needs a BM25 index): the cosine
 * query's shape with `BM25_SIMILARITY(text, '...')` as the score.
 */
export function textSearchQuery(input: TextSearchQueryInput): string {
  const similarity = `BM25_SIMILARITY(${tensorName(input.textTensor)}, ${input.textLiteral})`;
  const where = input.filter ? ` where ${input.filter}` : "";
  const tensors = input.returnTensors.map(tensorName).join(", ");
  return `select ${tensors}, score from (select *, ${similarity} as score${where} order by ${similarity} DESC limit ${nonNegativeInteger(input.k, "k")})`;
}

export interface ListQueryInput {
  returnTensors: string[];
  /** First dataset row to consider (the cursor). */
  fromRow: number;
  limit: number;
  filter: string;
}

/** A page of rows in dataset order: `select <tensors> from (select * where row_number() >= n [and <filter>] limit m)`. */
export function listQuery(input: ListQueryInput): string {
  const conditions = [`row_number() >= ${nonNegativeInteger(input.fromRow, "cursor")}`];
  if (input.filter) conditions.push(input.filter);
  const tensors = input.returnTensors.map(tensorName).join(", ");
  return `select ${tensors} from (select * where ${conditions.join(" and ")} limit ${nonNegativeInteger(input.limit, "limit")})`;
}

export interface EmbeddingsQueryInput {
  idTensor: string;
  embeddingTensor: string;
  /** Non-empty; each must be quotable. */
  ids: readonly string[];
  filter: string;
}

/**
 * The stored embeddings of some chunks: `select id, embedding from (select * where
 * (id == 'a' or id == 'b' ...) [and <filter>])`. Equalities joined by `or`,
 * not `in`: TQL's `in` takes numbers and class labels only, while `==` on a
 * text tensor is a documented string comparison.
 */
export function embeddingsQuery(input: EmbeddingsQueryInput): string {
  if (input.ids.length === 0) throw new ValidationError("embeddingsQuery needs at least one id");
  const idTensor = tensorName(input.idTensor);
  const match = input.ids.map((id, i) => `${idTensor} == ${stringLiteral(id, `ids[${i}]`)}`).join(" or ");
  const conditions = [`(${match})`];
  if (input.filter) conditions.push(input.filter);
  return `select ${idTensor}, ${tensorName(input.embeddingTensor)} from (select * where ${conditions.join(" and ")})`;
}
