import { UpstreamError } from "@zip/deep-memory";
import { SignJWT } from "jose";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDeepMemoryHandler } from "./handler.js";
import { supabaseTokenVerifier, supabaseUserId } from "./supabase-auth.js";
import { createTrainer } from "./test-support/index.js";

const PROJECT = "https://abcdefghijklmnop.supabase.co";
const ANON_KEY = "sb_publishable_test-anon-key";
const USER_ID = "7c1f5a2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b";
const VALID = "access-token-of-ada";

/** What GoTrue's GET /user answers a signed-in user: the whole user record. */
const adaUser = {
  id: USER_ID,
  aud: "authenticated",
  role: "authenticated",
  email: "ada@example.com",
  email_confirmed_at: "2026-11-01T10:00:00.000000Z",
  phone: "",
  confirmed_at: "2026-11-01T10:00:00.000000Z",
  last_sign_in_at: "2026-12-06T08:00:00.000000Z",
  app_metadata: { provider: "email", providers: ["email"] },
  user_metadata: { email: "ada@example.com", email_verified: true, phone_verified: false, sub: USER_ID },
  identities: [],
  created_at: "2026-11-01T09:59:00.000000Z",
  updated_at: "2026-12-06T08:00:00.000000Z",
  is_anonymous: false,
};

const seen: Request[] = [];
const server = setupServer(
  http.get(`${PROJECT}/auth/v1/user`, ({ request }) => {
    seen.push(request.clone());
    // The API gateway checks the key before Auth sees the request.
    if (request.headers.get("apikey") !== ANON_KEY) return HttpResponse.json({ message: "Invalid API key" }, { status: 401 });
    const token = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return HttpResponse.json({ code: 401, error_code: "no_authorization", msg: "This endpoint requires a valid Bearer token" }, { status: 401 });
    if (token === VALID) return HttpResponse.json(adaUser);
    if (token === "signed-out") {
      return HttpResponse.json({ code: 403, error_code: "session_not_found", msg: "Session from session_id claim in JWT does not exist" }, { status: 403 });
    }
    return HttpResponse.json(
      { code: 403, error_code: "bad_jwt", msg: "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired" },
      { status: 403 },
    );
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  seen.length = 0;
});
afterAll(() => server.close());

const bearer = (token?: string) => new Request("https://app.example/api/deep-memory/settings", { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("supabaseUserId asking Supabase Auth", () => {
  const getUserId = supabaseUserId({ supabaseUrl: PROJECT, anonKey: ANON_KEY });

  it("returns the user id GET /auth/v1/user answers for the request's bearer token, sending the anon key", async () => {
    expect(await getUserId(bearer(VALID))).toBe(USER_ID);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.get("apikey")).toBe(ANON_KEY);
    expect(seen[0]!.headers.get("authorization")).toBe(`Bearer ${VALID}`);
    // A project URL with a trailing slash reaches the same endpoint.
    expect(await supabaseUserId({ supabaseUrl: `${PROJECT}/`, anonKey: ANON_KEY })(bearer(VALID))).toBe(USER_ID);
  });

  it("refuses expired tokens and signed-out sessions with Auth's reason, and a missing header without asking", async () => {
    await expect(getUserId(bearer("expired-token"))).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/token is expired/) });
    await expect(getUserId(bearer("signed-out"))).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/Session .* does not exist/) });
    seen.length = 0;
    await expect(getUserId(bearer())).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/Missing bearer token/) });
    expect(seen).toHaveLength(0);
    // A wrong anon key is the gateway's 401: the request cannot be authenticated either.
    await expect(supabaseUserId({ supabaseUrl: PROJECT, anonKey: "wrong" })(bearer(VALID))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("reports Auth being down as an UpstreamError, retryable, not as a refused token", async () => {
    server.use(http.get(`${PROJECT}/auth/v1/user`, () => HttpResponse.json({ message: "upstream connect error" }, { status: 503 })));
    const down = await getUserId(bearer(VALID)).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(UpstreamError);
    expect(down).toMatchObject({ status: 503, retryable: true });
    server.use(http.get(`${PROJECT}/auth/v1/user`, () => HttpResponse.error()));
    await expect(getUserId(bearer(VALID))).rejects.toMatchObject({ code: "UPSTREAM_FAILED", retryable: true });
  });

  it("is the handler's getUserId: 200 for the user, 401 with Auth's reason otherwise", async () => {
    const setup = createTrainer({ users: [USER_ID] });
    try {
      const handler = createDeepMemoryHandler({ trainer: setup.trainer, getUserId, basePath: "/api/deep-memory" });
      expect((await handler(bearer(VALID))).status).toBe(200);
      const refused = await handler(bearer("signed-out"));
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: "UNAUTHORIZED",
        message: expect.stringMatching(/session_id claim/),
      });
    } finally {
      await setup.trainer.close();
    }
  });
});

describe("supabaseUserId checking the token here", () => {
  const secret = "super-secret-jwt-token-with-at-least-32-characters-long";
  const sign = (claims: Record<string, unknown>, expiresIn = "1h") =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(USER_ID).setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));

  it("returns the sub of a token signed with the project's secret, asking nobody", async () => {
    const getUserId = supabaseUserId({ jwtSecret: secret });
    expect(await getUserId(bearer(await sign({ aud: "authenticated" })))).toBe(USER_ID);
    await expect(getUserId(bearer(await sign({ aud: "anon" })))).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/aud/) });
    await expect(getUserId(bearer(await sign({ aud: "authenticated" }, "-1 min")))).rejects.toMatchObject({ message: "The access token has expired" });
    expect(seen).toHaveLength(0);
  });

  it("takes one way of checking: a secret or JWKS here, or Supabase Auth with its anon key", () => {
    expect(() => supabaseTokenVerifier({})).toThrow(TypeError);
    expect(() => supabaseTokenVerifier({ supabaseUrl: PROJECT })).toThrow(/anonKey/);
    expect(() => supabaseTokenVerifier({ supabaseUrl: PROJECT, anonKey: ANON_KEY, jwtSecret: secret })).toThrow(/not both/);
  });
});
