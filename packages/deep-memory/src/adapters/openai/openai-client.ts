import OpenAI from "openai";
import * as z from "zod";
import { ValidationError } from "../../errors/errors.js";

/** Options both OpenAI adapters share: how to reach the API. */
export const openAIConnectionSchema = z.object({
  /** A ready client (Azure, a proxy, custom fetch...). Its own retries are switched off per request. */
  client: z
    .custom<OpenAI>(
      (v) => typeof v === "object" && v !== null && "chat" in v && "embeddings" in v,
      "expected an OpenAI client instance",
    )
    .optional(),
  /** Defaults to the OPENAI_API_KEY environment variable. */
  apiKey: z.string().min(1).optional(),
  /** Any OpenAI-compatible endpoint, e.g. "http://localhost:11434/v1". Defaults to OPENAI_BASE_URL or OpenAI's. */
  baseURL: z.url().optional(),
  timeoutMs: z.number().int().positive().default(60_000),
});

export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(`Invalid ${owner} options: ${summary}`, issues);
}

/**
 * Our own client never retries (`maxRetries: 0`): callers retry through
 * `withRetry`, so Retry-After and abort behave the same for every provider.
 */
export function createOpenAIClient(
  options: { client?: OpenAI; apiKey?: string; baseURL?: string; timeoutMs: number },
  owner: string,
): OpenAI {
  if (options.client) {
    if (options.apiKey !== undefined || options.baseURL !== undefined) {
      throw new ValidationError(`${owner}: pass either client or apiKey/baseURL, not both`, [
        { path: "client", message: "conflicts with apiKey/baseURL" },
      ]);
    }
    return options.client;
  }
  try {
    return new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs });
  } catch (error) {
    // The SDK throws when no key is given and OPENAI_API_KEY is unset.
    throw new ValidationError(
      `${owner} needs an OpenAI API key: pass apiKey, set OPENAI_API_KEY, or pass a configured client ` +
        `(for a local OpenAI-compatible server without auth, any non-empty apiKey works)`,
      [{ path: "apiKey", message: "missing" }],
      { cause: error },
    );
  }
}
