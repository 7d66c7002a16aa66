import express from "express";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerToken, createDeepMemoryRouter, supabaseAuth } from "./index.js";
import { createTrainer, listen, type RunningServer } from "@zip/deep-memory-server/test-support";

const secret = "super-secret-jwt-token-with-at-least-32-characters-long";
const key = new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

async function token(claims: JWTPayload = {}, options: { key?: Uint8Array; exp?: number; alg?: string } = {}): Promise<string> {
  return new SignJWT({ aud: "authenticated", role: "authenticated", ...claims })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setSubject((claims.sub) ?? "user-123")
    .setIssuedAt()
    .setExpirationTime(options.exp ?? now() + 3600)
    .sign(options.key ?? key);
}

const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as never;

describe("supabaseAuth", () => {
  const getUserId = supabaseAuth({ jwtSecret: secret });

  it("returns the sub of a valid access token", async () => {
    expect(await getUserId(request(`Bearer ${await token()}`))).toBe("user-123");
    expect(await getUserId(request(`bearer   ${await token({ sub: "u2" })}`))).toBe("u2");
  });

  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ["missing header", async () => undefined, /Missing bearer token/],
    ["not a bearer header", async () => `Basic ${Buffer.from("a:b").toString("base64")}`, /Missing bearer token/],
    ["garbage token", async () => "Bearer not.a.jwt", /Invalid access token/],
    ["expired", async () => `Bearer ${await token({}, { exp: now() - 60 })}`, /expired/],
    ["wrong secret", async () => `Bearer ${await token({}, { key: new TextEncoder().encode("another-secret-another-secret-another") })}`, /Invalid access token/],
    ["wrong audience (the anon key's role)", async () => `Bearer ${await token({ aud: "anon" })}`, /aud/],
    ["HS512 instead of HS256", async () => `Bearer ${await token({}, { alg: "HS512" })}`, /Invalid access token/],
    [
      "alg none",
      async () => {
        const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
        return `Bearer ${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: "admin", aud: "authenticated", exp: now() + 3600 })}.`;
      },
      /Invalid access token/,
    ],
    ["no sub", async () => `Bearer ${await new SignJWT({ aud: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(key)}`, /sub|no user/],
    ["no exp", async () => `Bearer ${await new SignJWT({ aud: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject("u").sign(key)}`, /exp/],
  ];
  it.each(cases)("refuses %s with an UNAUTHORIZED error", async (_name, header, message) => {
    const error = await Promise.resolve(getUserId(request(await header()))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNAUTHORIZED" });
    expect((error as Error).message).toMatch(message);
  });

  it("checks the issuer when one is configured", async () => {
    const withIssuer = supabaseAuth({ jwtSecret: secret, issuer: "https://project.supabase.co/auth/v1" });
    await expect(withIssuer(request(`Bearer ${await token({ iss: "https://evil.example/auth/v1" })}`))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await withIssuer(request(`Bearer ${await token({ iss: "https://project.supabase.co/auth/v1" })}`))).toBe("user-123");
  });

  it("needs a secret or a JWKS URL", () => {
    expect(() => supabaseAuth({})).toThrow(TypeError);
    expect(() => supabaseAuth({ jwtSecret: "" })).toThrow(TypeError);
  });

  it("parses only well-formed bearer headers", () => {
    expect(bearerToken(request("Bearer abc"))).toBe("abc");
    expect(bearerToken(request("Bearer a b"))).toBeNull();
    expect(bearerToken(request("Bearer"))).toBeNull();
  });
});

describe("supabaseAuth with asymmetric signing keys (JWKS)", () => {
  let jwksServer: RunningServer;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  beforeAll(async () => {
    const pair = await generateKeyPair("ES256");
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const app = express();
    app.get("/auth/v1/.well-known/jwks.json", (_req, res) => {
      res.json({ keys: [jwk] });
    });
    jwksServer = await listen(app);
  });
  afterAll(() => jwksServer.close());

  const es256 = (claims: JWTPayload = {}) =>
    new SignJWT({ aud: "authenticated", ...claims }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setSubject("user-es").setExpirationTime("1h").sign(privateKey);

  it("verifies ES256 tokens against the project's JWKS, and refuses HS256 when no secret is configured", async () => {
    const getUserId = supabaseAuth({ jwksUrl: `${jwksServer.url}/auth/v1/.well-known/jwks.json` });
    expect(await getUserId(request(`Bearer ${await es256()}`))).toBe("user-es");
    await expect(getUserId(request(`Bearer ${await token()}`))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(getUserId(request(`Bearer ${await es256({ aud: "anon" })}`))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("supabaseAuth in front of the router", () => {
  it("answers 200 for a valid token and 401 for an expired or missing one", async () => {
    const { trainer } = createTrainer({ users: ["user-123"] });
    const app = express();
    app.use("/dm", createDeepMemoryRouter({ trainer, getUserId: supabaseAuth({ jwtSecret: secret }) }));
    const server = await listen(app);
    try {
      const get = async (authorization?: string) => {
        const res = await fetch(`${server.url}/dm/settings`, { headers: authorization ? { authorization } : {} });
        return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
      };
      expect((await get(`Bearer ${await token()}`)).status).toBe(200);
      const expired = await get(`Bearer ${await token({}, { exp: now() - 60 })}`);
      expect(expired).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "The access token has expired" } } });
      expect((await get()).status).toBe(401);
      expect((await get(`Bearer ${await token({}, { key: new TextEncoder().encode("x".repeat(40)) })}`)).status).toBe(401);
    } finally {
      await server.close();
      await trainer.close();
    }
  });
});
