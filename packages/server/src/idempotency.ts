import { DeepMemoryError, ValidationError } from "@zip/deep-memory";

/*
 * Idempotency-Key for POST requests (the IETF httpapi draft, as Stripe does
 * it), framework-neutral: it sees a user, a key, a fingerprint of the request
 * and the work to do, never a framework's request object.
 */

export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Set to "true" on an answer replayed from an earlier request with the same key. */
export const IDEMPOTENT_REPLAYED_HEADER = "idempotent-replayed";

export interface IdempotencyOptions {
  /** How long an answer is kept for replay. Default 24 hours. */
  ttlMs?: number;
  /** Most keys kept at once; the oldest answered ones are dropped first. Default 10,000. */
  maxKeys?: number;
  /** Time source (tests move it). */
  now?: () => number;
}

/** An answer as it goes on the wire. */
export interface IdempotentReply {
  status: number;
  body: unknown;
  headers?: Record<string, string> | undefined;
}

interface Entry {
  fingerprint: string;
  reply: Promise<IdempotentReply>;
  settled: boolean;
  expiresAt: number;
}

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/**
 * The key a request carries, or undefined without one.
 * @throws ValidationError for a key that is empty, longer than 255 characters or not printable ASCII.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(",") : header.trim();
  if (!keyPattern.test(value)) {
    const message = "must be 1 to 255 printable ASCII characters (a UUID, say)";
    throw new ValidationError(`Invalid Idempotency-Key header: ${message}`, [{ path: "Idempotency-Key", message }]);
  }
  return value;
}

/** A stable digest of what makes two requests the same: method, route, path parameters and the parsed body. */
export async function requestFingerprint(parts: { method: string; route: string; params?: unknown; body?: unknown }): Promise<string> {
  // Web Crypto, so the handler runs on any fetch runtime (Node, Bun, Deno, edge functions).
  const text = canonicalJson([parts.method.toUpperCase(), parts.route, parts.params ?? null, parts.body ?? null]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same body. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Replays the answer of a request already made with the same key by the same
 * user. The first request with a key does the work; one with the same key and
 * the same fingerprint gets that answer (waiting for it while the first is
 * still running); the same key with another request is IDEMPOTENCY_KEY_REUSED
 * (422). Answers that say "try again" are not kept, so trying again with the
 * same key does try again: 5xx, and 409/429 with Retry-After. Kept in this
 * process's memory, bounded in count and time.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: IdempotencyOptions = {}) {
    this.ttlMs = positive(options.ttlMs, 24 * 60 * 60 * 1000, "ttlMs");
    this.maxKeys = positive(options.maxKeys, 10_000, "maxKeys");
    this.now = options.now ?? Date.now;
  }

  /** Keys held now (answered or in flight). */
  get size(): number {
    return this.entries.size;
  }

  async run(
    request: { userId: string; key: string; fingerprint: string },
    work: () => Promise<IdempotentReply>,
  ): Promise<IdempotentReply & { replayed: boolean }> {
    const id = JSON.stringify([request.userId, request.key]);
    const existing = this.entries.get(id);
    if (existing && existing.settled && existing.expiresAt <= this.now()) this.entries.delete(id);
    else if (existing) {
      if (existing.fingerprint !== request.fingerprint) {
        throw new DeepMemoryError(
          "IDEMPOTENCY_KEY_REUSED",
          "This Idempotency-Key was already used with a different request; use a new key for a new request",
        );
      }
      return { ...(await existing.reply), replayed: true };
    }

    const entry: Entry = { fingerprint: request.fingerprint, reply: work(), settled: false, expiresAt: Number.POSITIVE_INFINITY };
    this.entries.set(id, entry);
    this.evict();
    try {
      const reply = await entry.reply;
      entry.settled = true;
      entry.expiresAt = this.now() + this.ttlMs;
      if (!keepable(reply) && this.entries.get(id) === entry) this.entries.delete(id);
      return { ...reply, replayed: false };
    } catch (error) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      throw error;
    }
  }

  /** Drops expired answers, then the oldest answered ones while over the bound (work in flight is never dropped). */
  private evict(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.settled && entry.expiresAt <= now) this.entries.delete(id);
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxKeys) return;
      if (entry.settled) this.entries.delete(id);
    }
  }
}

/** An answer worth replaying: not a server failure, and not one that says to try again later. */
function keepable(reply: IdempotentReply): boolean {
  if (reply.status >= 500) return false;
  const retryAfter = Object.keys(reply.headers ?? {}).some((name) => name.toLowerCase() === "retry-after");
  return !((reply.status === 409 || reply.status === 429) && retryAfter);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`idempotency.${name} must be a positive number`);
  return value;
}
