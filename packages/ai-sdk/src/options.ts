import { ValidationError } from "@zip/deep-memory";
import type { JSONValue } from "ai";
import type * as z from "zod";

/** Per-provider settings, e.g. `{ openai: { dimensions: 512 } }`: what the AI SDK calls take as `providerOptions`. */
export type ProviderOptions = Record<string, Record<string, JSONValue | undefined>>;

/** Parses adapter options, turning failures into one ValidationError listing every field. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
  throw new ValidationError(`Invalid ${owner} options: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
}

type AnyModel = string | { provider: string; modelId: string };

/** "text-embedding-3-small" for `openai.embedding("text-embedding-3-small")`; a gateway id as it is. */
export function modelIdOf(model: AnyModel): string {
  return typeof model === "string" ? model : model.modelId;
}

/** "openai.embedding", "mistral.chat"...; "gateway" for a gateway model id. */
export function providerOf(model: AnyModel): string {
  return typeof model === "string" ? "gateway" : model.provider;
}
