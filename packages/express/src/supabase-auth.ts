import { UnauthorizedError } from "@zip/deep-memory";
import { bearerToken as parseBearer, supabaseTokenVerifier, type SupabaseAuthOptions } from "@zip/deep-memory-server/supabase";
import type { Request } from "express";
import type { GetUserId } from "./context.js";

export type { SupabaseAuthOptions };

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(req: Pick<Request, "headers">): string | null {
  return parseBearer(req.headers.authorization);
}

/**
 * A `getUserId` that checks the Supabase access token of the Authorization
 * header and returns its user id: the same checks as `supabaseUserId` of
 * @zip/deep-memory-server/supabase for the fetch-standard handler (signature,
 * algorithm, expiry and audience with `jwtSecret` or `jwksUrl`, or Supabase
 * Auth itself with `supabaseUrl` and `anonKey`).
 */
export function supabaseAuth(options: SupabaseAuthOptions): GetUserId {
  const verify = supabaseTokenVerifier(options);
  return async (req) => {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError("Missing bearer token (Authorization: Bearer <Supabase access token>)");
    return verify(token);
  };
}
