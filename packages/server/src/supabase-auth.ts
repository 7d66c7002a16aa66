/**
 * @zip/deep-memory-server/supabase: who is calling, from a Supabase access
 * token. One verifier for every mount: `supabaseUserId` for the
 * fetch-standard handler (Next.js, Hono, Bun, Deno, edge functions), and
 * @zip/deep-memory-express's `supabaseAuth`, which reads the same header
 * from an Express request. A subpath of its own, so jose (bundled here)
 * stays out of the handler's entry.
 */
import { UnauthorizedError, UpstreamError } from "@zip/deep-memory";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";

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
  /**
   * Instead of checking the token here: ask Supabase Auth
   * (`GET <supabaseUrl>/auth/v1/user` with the `anonKey`), which also refuses
   * the tokens of sessions that have signed out or users that were deleted.
   * A round trip to Auth per request. Not with `jwtSecret` or `jwksUrl`.
   */
  supabaseUrl?: string | URL;
  /** The project's anon (publishable) key, sent as `apikey` with `supabaseUrl`. */
  anonKey?: string;
  /** Expected `aud` claim. Default "authenticated" (signed-in users; the anon key's tokens say "anon"). Local checks only. */
  audience?: string | string[];
  /** Expected `iss` claim, e.g. `https://<project>.supabase.co/auth/v1`. Checked only when given; local checks only. */
  issuer?: string;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Default 5. Local checks only. */
  clockToleranceSec?: number;
  /** For `supabaseUrl`; the global fetch (looked up on each call) by default. */
  fetch?: typeof fetch;
}

/** The token of an `Authorization: Bearer <token>` header value, or null. */
export function bearerToken(authorization: string | null | undefined): string | null {
  const match = typeof authorization === "string" ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization) : null;
  return match?.[1] ?? null;
}

/**
 * Checks a Supabase access token and resolves to its user id (the `sub`).
 * Rejects with an UnauthorizedError, whose message is safe to show, for any
 * token that does not pass; with an UpstreamError where Supabase Auth
 * (`supabaseUrl`) could not answer. Verification is jose's, not hand-rolled crypto.
 */
export function supabaseTokenVerifier(options: SupabaseAuthOptions): (token: string) => Promise<string> {
  const secret = options.jwtSecret !== undefined && options.jwtSecret !== "" ? new TextEncoder().encode(options.jwtSecret) : null;
  const jwks = options.jwksUrl !== undefined ? createRemoteJWKSet(new URL(options.jwksUrl)) : null;
  if (options.supabaseUrl !== undefined) {
    if (secret || jwks) throw new TypeError("supabaseAuth takes supabaseUrl (ask Supabase Auth) or jwtSecret / jwksUrl (check here), not both");
    if (!options.anonKey) throw new TypeError("supabaseAuth needs anonKey with supabaseUrl");
    return askSupabaseAuth(new URL(options.supabaseUrl), options.anonKey, options.fetch);
  }
  if (!secret && !jwks) throw new TypeError("supabaseAuth needs jwtSecret (HS256 projects), jwksUrl (asymmetric signing keys) or supabaseUrl and anonKey");
  // Pin the algorithm to the key type, so a token cannot pick how it is checked (no "none", no HS256 with a public key).
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ["RS256", "ES256"] : [])];
  const key: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) return secret;
    if (jwks && header.alg !== "HS256") return jwks(header, token);
    throw new UnauthorizedError("Invalid access token");
  };
  return async (token) => {
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

/** GoTrue's GET /user: 200 with the user (its `id`), 401 or 403 with `{ code, error_code, msg }` for a token it refuses. */
function askSupabaseAuth(projectUrl: URL, anonKey: string, fetchImpl: typeof fetch | undefined): (token: string) => Promise<string> {
  const endpoint = new URL("auth/v1/user", projectUrl.href.endsWith("/") ? projectUrl : `${projectUrl.href}/`);
  return async (token) => {
    let response: Response;
    try {
      // The global fetch as it is at call time (instrumentation and test servers patch it later).
      response = await (fetchImpl ?? globalThis.fetch)(endpoint, { headers: { apikey: anonKey, authorization: `Bearer ${token}` } });
    } catch (error) {
      throw new UpstreamError("supabase-auth", `Cannot reach Supabase Auth: ${(error as Error)?.message ?? String(error)}`, { retryable: true, cause: error });
    }
    const body = (await response.json().catch(() => null)) as { id?: unknown; msg?: unknown; message?: unknown; error_code?: unknown } | null;
    if (response.status === 401 || response.status === 403) {
      const reason = typeof body?.msg === "string" ? body.msg : typeof body?.message === "string" ? body.message : `HTTP ${response.status}`;
      throw new UnauthorizedError(`Supabase Auth refused the access token: ${reason}`, { details: { error_code: body?.error_code } });
    }
    if (!response.ok) {
      throw new UpstreamError("supabase-auth", `Supabase Auth answered HTTP ${response.status}`, {
        status: response.status,
        retryable: response.status === 429 || response.status >= 500,
      });
    }
    if (typeof body?.id !== "string" || body.id === "") throw new UpstreamError("supabase-auth", "Supabase Auth answered without a user id", { retryable: false });
    return body.id;
  };
}

/**
 * A `getUserId` for createDeepMemoryHandler (and the Next.js and Hono
 * mounts): the Supabase user of the request's `Authorization: Bearer` token.
 * Throws an UnauthorizedError, answered as 401 with its message, when the
 * header is missing or the token does not pass.
 *
 * ```ts
 * createDeepMemoryHandler({ trainer, getUserId: supabaseUserId({ supabaseUrl: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY }) });
 * ```
 */
export function supabaseUserId(options: SupabaseAuthOptions): (request: Request) => Promise<string> {
  const verify = supabaseTokenVerifier(options);
  return async (request) => {
    const token = bearerToken(request.headers.get("authorization"));
    if (!token) throw new UnauthorizedError("Missing bearer token (Authorization: Bearer <Supabase access token>)");
    return verify(token);
  };
}
