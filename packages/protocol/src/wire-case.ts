import * as z from "zod";

/**
 * The one casing rule of the protocol: the wire speaks snake_case, the SDK's
 * domain speaks camelCase, and this file is the single mapping between them.
 * Every wire schema, request and response alike, is derived from a domain (or
 * request-field) zod schema by the helpers here: keys renamed (`wireKey`),
 * dates turned into ISO-8601 strings, strictness and limits kept, so the two
 * are never written twice. Exceptions, all documented in docs/http-api.md:
 * `runId` is `training_run_id`; record keys (metric names such as
 * "recall@10") are data and keep their spelling; URL path parameters are
 * named as in the route table (`{runId}`, `{jobId}`); the event stream also
 * accepts `?lastEventId=` because the `event-source-polyfill` package sends it.
 */

type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";

/** `recallAt10Gain` -> `recall_at_10_gain`: an underscore before each capital and each run of digits. */
export type SnakeCase<S extends string, AfterDigit extends boolean = true> = S extends `${infer H}${infer T}`
  ? H extends Digit
    ? `${AfterDigit extends true ? "" : "_"}${H}${SnakeCase<T, true>}`
    : H extends Lowercase<H>
      ? `${H}${SnakeCase<T, false>}`
      : `_${Lowercase<H>}${SnakeCase<T, false>}`
  : S;

/** The one key whose wire name is not its plain snake_case: the plan calls a run id `training_run_id`. */
export type WireKey<K extends string> = K extends "runId" ? "training_run_id" : SnakeCase<K>;

export function snakeCase(key: string): string {
  let out = "";
  let afterDigit = true;
  for (const ch of key) {
    const digit = ch >= "0" && ch <= "9";
    if (digit) out += afterDigit ? ch : `_${ch}`;
    else if (ch !== ch.toLowerCase()) out += `_${ch.toLowerCase()}`;
    else out += ch;
    afterDigit = digit;
  }
  return out;
}

export function wireKey(key: string): string {
  return key === "runId" ? "training_run_id" : snakeCase(key);
}

/** The wire schema type of a domain schema: object keys in wire case, dates as ISO strings. */
export type WireSchema<T> =
  T extends z.ZodObject<infer Shape, infer Config>
    ? z.ZodObject<{ -readonly [K in keyof Shape & string as WireKey<K>]: WireSchema<Shape[K]> }, Config>
    : T extends z.ZodOptional<infer Inner>
      ? z.ZodOptional<WireSchema<Inner>>
      : T extends z.ZodNullable<infer Inner>
        ? z.ZodNullable<WireSchema<Inner>>
        : T extends z.ZodArray<infer Item>
          ? z.ZodArray<WireSchema<Item>>
          : T extends z.ZodDate
            ? z.ZodISODateTime
            : T;

/**
 * Derives a wire schema from a domain schema. Records (e.g. metric tables
 * keyed "recall@10") keep their keys: they are data, not field names.
 */
export function wireSchema<T extends z.ZodType>(schema: T): WireSchema<T> {
  return convertSchema(schema) as WireSchema<T>;
}

// The same domain schema always converts to the same wire schema instance, so
// generated JSON Schema can refer to one definition instead of repeating it.
const converted = new WeakMap<z.ZodType, z.ZodType>();

function convertSchema(schema: z.ZodType): z.ZodType {
  let wire = converted.get(schema);
  if (!wire) {
    wire = convertUncached(schema);
    converted.set(schema, wire);
  }
  return wire;
}

function convertUncached(schema: z.ZodType): z.ZodType {
  const wire = convertShape(schema);
  // Descriptions are documentation in the OpenAPI document: keep them on the renamed copy.
  return wire !== schema && schema.description ? wire.describe(schema.description) : wire;
}

function convertShape(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = {};
    for (const [key, value] of Object.entries<z.ZodType>(schema.shape)) shape[wireKey(key)] = convertSchema(value);
    // A strict request object stays strict: an unknown field is refused, never ignored.
    return schema.def.catchall instanceof z.ZodNever ? z.strictObject(shape) : z.object(shape);
  }
  if (schema instanceof z.ZodOptional) return convertSchema(schema.unwrap() as z.ZodType).optional();
  if (schema instanceof z.ZodNullable) return convertSchema(schema.unwrap() as z.ZodType).nullable();
  if (schema instanceof z.ZodArray) {
    // Keep the array's own checks (min/max items): they are request limits.
    const array = z.array(convertSchema(schema.element as z.ZodType));
    return schema.def.checks?.length ? array.check(...(schema.def.checks as z.core.$ZodCheck<unknown[]>[])) : array;
  }
  if (schema instanceof z.ZodDate) return z.iso.datetime();
  return schema;
}

/**
 * Converts a domain value to its wire form by walking the domain schema it
 * satisfies: keys renamed, dates to ISO strings, fields the schema does not
 * name dropped (so nothing internal leaks by accident).
 */
export function toWire<T extends z.ZodType>(schema: T, value: z.output<T>): z.output<WireSchema<T>> {
  return convertValue(schema, value) as z.output<WireSchema<T>>;
}

function convertValue(schema: z.ZodType, value: unknown): unknown {
  if (schema instanceof z.ZodOptional) return value === undefined ? undefined : convertValue(schema.unwrap() as z.ZodType, value);
  if (schema instanceof z.ZodNullable) return value === null ? null : convertValue(schema.unwrap() as z.ZodType, value);
  if (schema instanceof z.ZodObject && typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries<z.ZodType>(schema.shape)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[wireKey(key)] = convertValue(field, v);
    }
    return out;
  }
  if (schema instanceof z.ZodArray && Array.isArray(value)) return value.map((v) => convertValue(schema.element as z.ZodType, v));
  if (schema instanceof z.ZodDate && value instanceof Date) return value.toISOString();
  return value;
}
