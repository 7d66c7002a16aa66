import { describe, expect, it } from "vitest";
import { IdempotencyCache, parseIdempotencyKey, requestFingerprint, type IdempotentReply } from "./idempotency.js";

const created: IdempotentReply = { status: 201, body: { id: 1 } };
const fp = (body: unknown) => requestFingerprint({ method: "post", route: "/import", body });

describe("IdempotencyCache", () => {
  it("does the work once per user and key, and replays its answer", async () => {
    const cache = new IdempotencyCache();
    let calls = 0;
    const work = async () => ({ status: 201, body: { call: ++calls } });
    const first = await cache.run({ userId: "u", key: "k", fingerprint: await fp({ a: 1 }) }, work);
    const again = await cache.run({ userId: "u", key: "k", fingerprint: await fp({ a: 1 }) }, work);
    expect(first).toEqual({ status: 201, body: { call: 1 }, replayed: false });
    expect(again).toEqual({ status: 201, body: { call: 1 }, replayed: true });
    // Keys are per user: another user's same key is another request.
    expect(await cache.run({ userId: "v", key: "k", fingerprint: await fp({ a: 1 }) }, work)).toMatchObject({ body: { call: 2 }, replayed: false });
  });

  it("refuses the same key with another request (422 IDEMPOTENCY_KEY_REUSED), also while the first runs", async () => {
    const cache = new IdempotencyCache();
    let release!: () => void;
    const slow = cache.run({ userId: "u", key: "k", fingerprint: await fp({ a: 1 }) }, () => new Promise((resolve) => (release = () => resolve(created))));
    await expect(cache.run({ userId: "u", key: "k", fingerprint: await fp({ a: 2 }) }, async () => created)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    release();
    await slow;
    await expect(cache.run({ userId: "u", key: "k", fingerprint: await fp({ a: 2 }) }, async () => created)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
  });

  it("makes a concurrent duplicate wait for the first and get its answer", async () => {
    const cache = new IdempotencyCache();
    let calls = 0;
    let release!: () => void;
    const work = () =>
      new Promise<IdempotentReply>((resolve) => {
        calls++;
        release = () => resolve(created);
      });
    const a = cache.run({ userId: "u", key: "k", fingerprint: await fp({}) }, work);
    const b = cache.run({ userId: "u", key: "k", fingerprint: await fp({}) }, work);
    release();
    expect([await a, await b]).toEqual([
      { ...created, replayed: false },
      { ...created, replayed: true },
    ]);
    expect(calls).toBe(1);
  });

  it("does not keep answers that say to try again: 5xx, 409/429 with Retry-After, thrown errors", async () => {
    const cache = new IdempotencyCache();
    const replies: IdempotentReply[] = [
      { status: 500, body: {} },
      { status: 503, body: {} },
      { status: 409, body: {}, headers: { "retry-after": "3" } },
      { status: 429, body: {}, headers: { "Retry-After": "1" } },
    ];
    for (const reply of replies) {
      let calls = 0;
      const work = async () => (calls++, reply);
      await cache.run({ userId: "u", key: `k${reply.status}`, fingerprint: await fp({}) }, work);
      expect(await cache.run({ userId: "u", key: `k${reply.status}`, fingerprint: await fp({}) }, work)).toMatchObject({ replayed: false });
      expect(calls).toBe(2);
    }
    await expect(cache.run({ userId: "u", key: "t", fingerprint: await fp({}) }, () => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await cache.run({ userId: "u", key: "t", fingerprint: await fp({}) }, async () => created)).toMatchObject({ replayed: false });
    // A refusal that holds (409 without Retry-After, a 4xx) is replayed like a success.
    await cache.run({ userId: "u", key: "n", fingerprint: await fp({}) }, async () => ({ status: 409, body: { error: "nothing" } }));
    expect(await cache.run({ userId: "u", key: "n", fingerprint: await fp({}) }, async () => created)).toMatchObject({ status: 409, replayed: true });
  });

  it("forgets answers after ttlMs and holds at most maxKeys, oldest first", async () => {
    let now = 0;
    const cache = new IdempotencyCache({ ttlMs: 1000, maxKeys: 3, now: () => now });
    const work = async () => created;
    for (const key of ["a", "b", "c", "d"]) await cache.run({ userId: "u", key, fingerprint: await fp({}) }, work);
    expect(cache.size).toBe(3);
    expect(await cache.run({ userId: "u", key: "a", fingerprint: await fp({ other: true }) }, work)).toMatchObject({ replayed: false });
    expect(await cache.run({ userId: "u", key: "d", fingerprint: await fp({}) }, work)).toMatchObject({ replayed: true });
    now = 1001;
    expect(await cache.run({ userId: "u", key: "d", fingerprint: await fp({ other: true }) }, work)).toMatchObject({ replayed: false });
  });
});

describe("parseIdempotencyKey and requestFingerprint", () => {
  it("accepts 1-255 printable ASCII characters and refuses the rest with a 400", () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey(" 0b9f3a9e-2c4d ")).toBe("0b9f3a9e-2c4d");
    for (const bad of ["", "a b", "é", "x".repeat(256), "a\tb"]) {
      expect(() => parseIdempotencyKey(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    }
  });

  it("ignores key order in bodies but not values, routes or methods", async () => {
    expect(await fp({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(await fp({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(await fp({ a: 1 })).not.toBe(await fp({ a: "1" }));
    expect(await requestFingerprint({ method: "post", route: "/generate", body: {} })).not.toBe(await requestFingerprint({ method: "post", route: "/import", body: {} }));
  });
});
