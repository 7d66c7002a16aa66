import { UnauthorizedError } from "@zip/deep-memory";
import type { Request } from "express";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { GetUserId } from "./context.js";

export interface SupabaseAuthOptions {
  /**
   * The project's JWT secret (Dashboard -> Project Settings -> API), for
   * access tokens signed with HS256. Used as-is (its UTF-8 bytes), as Supabase does.
   */
  jwtSecret?: string;
  /**
   * The project's JWKS endpoint, for projects using asymmetric signing keys
   * (RS256/ES256): `https://<project>.supabase.co/auth/v1/.well-known/jwks.json`.
   */
  jwksUrl?: string | URL;
  /** Expected `aud` claim. Default "authenticated" (signed-in users; the anon key's tokens say "anon"). */
  audience?: string | string[];
  /** Expected `iss` claim, e.g. `https://<project>.supabase.co/auth/v1`. Checked only when given. */
  issuer?: string;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Default 5. */
  clockToleranceSec?: number;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(req: Pick<Request, "headers">): string | null {
  const header = req.headers.authorization;
  const match = typeof header === "string" ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/**
 * A `getUserId` that verifies a Supabase access token from the Authorization
 * header (signature, algorithm, expiry and audience) and returns its `sub`,
 * the Supabase user id. Verification is jose's, not hand-rolled crypto.
 */
export function supabaseAuth(options: SupabaseAuthOptions): GetUserId {
  const secret = options.jwtSecret !== undefined && options.jwtSecret !== "" ? new TextEncoder().encode(options.jwtSecret) : null;
  const jwks = options.jwksUrl !== undefined ? createRemoteJWKSet(new URL(options.jwksUrl)) : null;
  if (!secret && !jwks) throw new TypeError("supabaseAuth needs jwtSecret (HS256 projects) or jwksUrl (asymmetric signing keys)");
  // Pin the algorithm to the key type, so a token cannot pick how it is checked (no "none", no HS256 with a public key).
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ["RS256", "ES256"] : [])];
  const key: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) return secret;
    if (jwks && header.alg !== "HS256") return jwks(header, token);
    throw new UnauthorizedError("Invalid access token");
  };

  return async (req) => {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError("Missing bearer token (Authorization: Bearer <Supabase access token>)");
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms,
        audience: options.audience ?? "authenticated",
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        clockTolerance: options.clockToleranceSec ?? 5,
        requiredClaims: ["sub", "exp"],
      });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new UnauthorizedError("The access token names no user");
      return payload.sub;
    } catch (error) {
      if (UnauthorizedError.isInstance(error)) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError("The access token has expired", { cause: error });
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        throw new UnauthorizedError(`The access token's ${error.claim} claim is not accepted`, { cause: error });
      }
      throw new UnauthorizedError("Invalid access token", { cause: error });
    }
  };
}
