import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { LOCAL_SESSION_COOKIE, parseCookieHeader, requireUserId, sessionUserId, supabaseAccessToken } from "./session";

const secret = "a-supabase-project-jwt-secret-of-enough-length";
const supabaseEnv = { SUPABASE_JWT_SECRET: secret };
const user = "5f0c6f7e-8d7a-4c1b-9a39-1c1e2f3a4b5c";

async function accessToken(claims: { sub?: string; aud?: string; expiresIn?: string } = {}, key = secret): Promise<string> {
  const jwt = new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(claims.aud ?? "authenticated")
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? "1h");
  if (claims.sub !== "") jwt.setSubject(claims.sub ?? user);
  return jwt.sign(new TextEncoder().encode(key));
}

/** The cookie(s) @supabase/ssr writes: "base64-" + base64url(JSON session), split into chunks when long. */
function ssrCookies(token: string, chunkSize = 3180) {
  const value = `base64-${Buffer.from(JSON.stringify({ access_token: token, token_type: "bearer", refresh_token: "r" })).toString("base64url")}`;
  const chunks = value.match(new RegExp(`.{1,${chunkSize}}`, "g"))!;
  const name = "sb-abcdefgh-auth-token";
  return chunks.length === 1 ? [{ name, value }] : chunks.map((chunk, i) => ({ name: `${name}.${i}`, value: chunk }));
}

describe("local mode", () => {
  const env = {};

  it("takes the user from the local session cookie, and nobody without one", async () => {
    expect(await sessionUserId({ cookies: [{ name: LOCAL_SESSION_COOKIE, value: user.toUpperCase() }] }, env)).toBe(user);
    expect(await sessionUserId({ cookies: [] }, env)).toBeNull();
    expect(await sessionUserId({ cookies: [{ name: LOCAL_SESSION_COOKIE, value: "admin" }] }, env)).toBeNull();
  });

  it("ignores Supabase tokens, which only count in Supabase mode", async () => {
    expect(await sessionUserId({ cookies: ssrCookies(await accessToken()), authorization: `Bearer ${await accessToken()}` }, env)).toBeNull();
  });

  it("answers API requests without a session with a 401 error", async () => {
    await expect(requireUserId(new Request("http://app/api/deep-memory/runs"))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const request = new Request("http://app/api/deep-memory/runs", { headers: { cookie: `theme=dark; ${LOCAL_SESSION_COOKIE}=${user}` } });
    expect(await requireUserId(request)).toBe(user);
  });
});

describe("Supabase mode", () => {
  it("reads the access token from @supabase/ssr's session cookie, in one piece or in chunks", async () => {
    const token = await accessToken();
    expect(supabaseAccessToken(ssrCookies(token))).toBe(token);
    const chunked = ssrCookies(token, 100);
    expect(chunked.length).toBeGreaterThan(2);
    expect(supabaseAccessToken([...chunked].reverse())).toBe(token);
    expect(await sessionUserId({ cookies: chunked }, supabaseEnv)).toBe(user);
  });

  it("takes a bearer token too", async () => {
    expect(await sessionUserId({ cookies: [], authorization: `Bearer ${await accessToken()}` }, supabaseEnv)).toBe(user);
  });

  it("rejects tokens signed with another secret, expired, for another audience or naming no user", async () => {
    for (const token of [
      await accessToken({}, "another-secret-of-another-project-entirely"),
      await accessToken({ expiresIn: "-1m" }),
      await accessToken({ aud: "anon" }),
      await accessToken({ sub: "" }),
    ]) {
      expect(await sessionUserId({ cookies: ssrCookies(token) }, supabaseEnv)).toBeNull();
    }
  });

  it("finds no token in unreadable cookies, and takes no local session", async () => {
    expect(supabaseAccessToken([{ name: "sb-x-auth-token", value: "base64-%%%" }])).toBeNull();
    expect(supabaseAccessToken(parseCookieHeader("sb-x-auth-token=%7B%22access_token%22%3A%22t%22%7D"))).toBe("t");
    expect(await sessionUserId({ cookies: [{ name: LOCAL_SESSION_COOKIE, value: user }] }, supabaseEnv)).toBeNull();
  });
});
