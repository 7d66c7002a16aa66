import { UnauthorizedError } from "@zip/deep-memory";
import { supabaseAuth, type GetUserId } from "@zip/deep-memory-express";
import type { Request } from "express";

/** The user of the dev scheme when a request names none. PostgreSQL-backed stores key users by uuid. */
export const DEMO_USER_ID = "00000000-0000-4000-8000-00000000a11c";

/** Header the dev scheme reads the user from. */
export const DEV_USER_HEADER = "x-user-id";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Development identity: the user is whatever uuid the `x-user-id` header says,
 * else the demo user. Anyone can claim any user, so never use it where more
 * than one real person can reach the server.
 */
export function devAuth(options: { defaultUserId?: string } = {}): GetUserId {
  const fallback = options.defaultUserId ?? DEMO_USER_ID;
  return (req: Request) => {
    const header = req.headers[DEV_USER_HEADER];
    if (header === undefined) return fallback;
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || !uuid.test(value.trim())) throw new UnauthorizedError(`${DEV_USER_HEADER} must be a uuid`);
    return value.trim().toLowerCase();
  };
}

export type AuthScheme = { kind: "supabase"; getUserId: GetUserId } | { kind: "dev"; getUserId: GetUserId };

/** Supabase access tokens when SUPABASE_JWT_SECRET (or SUPABASE_JWKS_URL) is set, else the dev scheme. */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AuthScheme {
  const jwtSecret = env.SUPABASE_JWT_SECRET?.trim();
  const jwksUrl = env.SUPABASE_JWKS_URL?.trim();
  if (jwtSecret || jwksUrl) {
    return {
      kind: "supabase",
      getUserId: supabaseAuth({
        ...(jwtSecret ? { jwtSecret } : {}),
        ...(jwksUrl ? { jwksUrl } : {}),
        ...(env.SUPABASE_URL ? { issuer: `${env.SUPABASE_URL.replace(/\/$/, "")}/auth/v1` } : {}),
      }),
    };
  }
  return { kind: "dev", getUserId: devAuth() };
}
