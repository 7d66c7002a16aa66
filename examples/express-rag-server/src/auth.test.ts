import type { Request } from "express";
import { describe, expect, it } from "vitest";
import { authFromEnv, DEMO_USER_ID, devAuth } from "./auth.js";

const request = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

describe("devAuth", () => {
  const getUserId = devAuth();

  it("answers the demo user when the request names none", async () => {
    expect(await getUserId(request({}))).toBe(DEMO_USER_ID);
  });

  it("takes the user from the x-user-id header, lower-cased", async () => {
    expect(await getUserId(request({ "x-user-id": "0F8E8A5B-1C2D-4E3F-8A9B-0C1D2E3F4A5B" }))).toBe("0f8e8a5b-1c2d-4e3f-8a9b-0c1d2e3f4a5b");
  });

  it("refuses an x-user-id that is not a uuid (the SQL stores key users by uuid)", async () => {
    await expect(async () => getUserId(request({ "x-user-id": "alice" }))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("authFromEnv", () => {
  it("uses the dev scheme when no Supabase setting is present", () => {
    expect(authFromEnv({}).kind).toBe("dev");
  });

  it("verifies Supabase access tokens when SUPABASE_JWT_SECRET is set: a request without one is refused", async () => {
    const auth = authFromEnv({ SUPABASE_JWT_SECRET: "a-secret-of-at-least-32-characters-long" });
    expect(auth.kind).toBe("supabase");
    await expect(async () => auth.getUserId(request({ "x-user-id": DEMO_USER_ID }))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
