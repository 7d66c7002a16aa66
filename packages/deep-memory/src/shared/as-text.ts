/**
 * A value read from a database or an HTTP API, as chunk text: a string as it
 * is, null and undefined as "", anything else as JSON (so an unexpected
 * object shows what it holds, never "[object Object]").
 */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return JSON.stringify(value) ?? "";
}
