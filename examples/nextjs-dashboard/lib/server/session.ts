import { UnauthorizedError } from "@zip/deep-memory";
import { supabaseTokenVerifier } from "@zip/deep-memory-server/supabase";

/**
 * Who is signed in. Two modes:
 * - "supabase" (SUPABASE_JWT_SECRET set): the Supabase access token, from
 *   `Authorization: Bearer <token>` or the session cookie @supabase/ssr sets
 *   (`sb-<project>-auth-token`, possibly split into `.0`, `.1` chunks), checked
 *   against the project's JWT secret; the user is its `sub`.
 * - "local" (otherwise): a random uuid in an http-only cookie, handed out by the
 *   /login page. No password: anyone who can reach the app can start a session,
 *   so local mode is for a laptop, never for a shared server.
 */
export type AuthMode = "supabase" | "local";

export const LOCAL_SESSION_COOKIE = "deep-memory-local-user";

type Env = Readonly<Record<string, string | undefined>>;

export function authMode(env: Env = process.env): AuthMode {
  return env.SUPABASE_JWT_SECRET?.trim() ? "supabase" : "local";
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Cookie {
  name: string;
  value: string;
}

/** The cookies of a Cookie header. */
export function parseCookieHeader(header: string | null | undefined): Cookie[] {
  if (!header) return [];
  return header.split(";").flatMap((part) => {
    const eq = part.indexOf("=");
    if (eq <= 0) return [];
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      return [{ name, value: decodeURIComponent(raw) }];
    } catch {
      return [{ name, value: raw }];
    }
  });
}

/** The access token in @supabase/ssr's session cookie, joining its chunks; null when there is none or it is unreadable. */
export function supabaseAccessToken(cookies: readonly Cookie[]): string | null {
  const chunks = cookies
    .map((c) => ({ match: /^(sb-.+-auth-token)(?:\.(\d+))?$/.exec(c.name), value: c.value }))
    .filter((c): c is { match: RegExpExecArray; value: string } => c.match !== null);
  const base = chunks[0]?.match[1];
  if (!base) return null;
  const value = chunks
    .filter((c) => c.match[1] === base)
    .sort((a, b) => Number(a.match[2] ?? -1) - Number(b.match[2] ?? -1))
    .map((c) => c.value)
    .join("");
  try {
    const json = value.startsWith("base64-") ? Buffer.from(value.slice("base64-".length), "base64url").toString("utf8") : value;
    const session: unknown = JSON.parse(json);
    const token = (session as { access_token?: unknown } | null)?.access_token;
    return typeof token === "string" && token !== "" ? token : null;
  } catch {
    return null;
  }
}

/** The user a request acts for, or null when nobody is signed in (or the token does not verify). */
export async function sessionUserId(input: { cookies: readonly Cookie[]; authorization?: string | null }, env: Env = process.env): Promise<string | null> {
  if (authMode(env) === "local") {
    const value = input.cookies.find((c) => c.name === LOCAL_SESSION_COOKIE)?.value.trim();
    return value && uuid.test(value) ? value.toLowerCase() : null;
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(input.authorization ?? "")?.[1]?.trim();
  const token = bearer ?? supabaseAccessToken(input.cookies);
  if (!token) return null;
  // The server package's Supabase checks (as its supabaseUserId runs them), on a token that may come from a cookie.
  const verify = supabaseTokenVerifier({
    jwtSecret: env.SUPABASE_JWT_SECRET!.trim(),
    ...(env.SUPABASE_URL ? { issuer: `${env.SUPABASE_URL.replace(/\/$/, "")}/auth/v1` } : {}),
  });
  return verify(token).catch(() => null);
}

/** The user of an API request, or null (the deep-memory handler then answers 401). */
export function requestUserId(request: Request): Promise<string | null> {
  return sessionUserId({ cookies: parseCookieHeader(request.headers.get("cookie")), authorization: request.headers.get("authorization") });
}

/** For the app's own API routes: the request's user. @throws UnauthorizedError (401) when nobody is signed in. */
export async function requireUserId(request: Request): Promise<string> {
  const userId = await requestUserId(request);
  if (userId === null) throw new UnauthorizedError(authMode() === "local" ? "Not signed in: open /login to start a local session" : "Missing or invalid Supabase session");
  return userId;
}
