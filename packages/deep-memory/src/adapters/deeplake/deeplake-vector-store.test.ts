import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { UpstreamError, ValidationError } from "../../errors/errors.js";
import { allPages } from "../../test-utils/pages.js";
import { DeepLakeVectorStore } from "./deeplake-vector-store.js";
import { deeplakeEndpoint as ENDPOINT, mockDeepLakeQueryApi, testDeepLakeStore } from "./deeplake-query-api.test-support.js";

/**
 * The managed Tensor Database's query API through msw: requests and answers
 * in the documented shapes (TQL in `{query}`, `{indices, data: {tensor: [...]}}`
 * back). The handler evaluates the two TQL forms the store sends against a
 * small dataset, so paging, filtering and ranking are really exercised.
 */

const TOKEN = "al-test-token";

interface Sample {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  embedding: number[];
}

const dataset: Sample[] = Array.from({ length: 25 }, (_, i) => ({
  id: `doc-${i}`,
  text: `Chunk number ${i}`,
  metadata: { user_id: i % 2 === 0 ? "alice" : "bob", n: i },
  embedding: [Math.cos(i / 4), Math.sin(i / 4), i % 3 === 0 ? 0.5 : -0.5, 0.25],
}));

const cosine = (a: number[], b: number[]) => {
  const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
  return dot / (Math.hypot(...a) * Math.hypot(...b));
};

function matches(sample: Sample, filter: string | undefined): boolean {
  if (!filter) return true;
  return filter.split(" and ").every((term) => {
    const m = /^metadata\['([^']*)'\] == (?:'([^']*)'|(\S+))$/.exec(term);
    if (!m) throw new Error(`unexpected filter term ${term}`);
    const expected = m[2] ?? Number(m[3]);
    return sample.metadata[m[1]!] === expected;
  });
}

function columns(tensors: string[], rows: { sample: Sample; index: number; score?: number }[]) {
  const data: Record<string, unknown[]> = {};
  for (const tensor of tensors) {
    data[tensor] = rows.map((r) => (tensor === "score" ? r.score : (r.sample as unknown as Record<string, unknown>)[tensor]));
  }
  return { indices: rows.map((r) => r.index), data };
}


/** Evaluates the store's two TQL shapes; anything else is a 400 like a TQL syntax error. */
function answer(query: string) {
  const search =
    /^select (.+), score from \(select \*, COSINE_SIMILARITY\(embedding, ARRAY\[([^\]]+)\]\) as score(?: where (.+?))? order by COSINE_SIMILARITY\(embedding, ARRAY\[([^\]]+)\]\) DESC limit (\d+)\)$/.exec(
      query,
    );
  if (search) {
    const vector = search[2]!.split(", ").map(Number);
    expect(search[4]).toBe(search[2]);
    const rows = dataset
      .map((sample, index) => ({ sample, index, score: cosine(vector, sample.embedding) }))
      .filter((r) => matches(r.sample, search[3]))
      .sort((a, b) => b.score - a.score)
      .slice(0, Number(search[5]));
    return HttpResponse.json(columns([...search[1]!.split(", "), "score"], rows));
  }
  const bm25 =
    /^select (.+), score from \(select \*, BM25_SIMILARITY\(text, '([^']*)'\) as score(?: where (.+?))? order by BM25_SIMILARITY\(text, '([^']*)'\) DESC limit (\d+)\)$/.exec(
      query,
    );
  if (bm25) {
    expect(bm25[4]).toBe(bm25[2]);
    // A stand-in for the server's BM25: how many query words the text has (0 for none, as BM25 scores them).
    const words = bm25[2]!.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    const rows = dataset
      .map((sample, index) => ({ sample, index, score: words.filter((w) => sample.text.toLowerCase().split(/\s+/).includes(w)).length }))
      .filter((r) => matches(r.sample, bm25[3]))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, Number(bm25[5]));
    return HttpResponse.json(columns([...bm25[1]!.split(", "), "score"], rows));
  }
  const list = /^select (.+) from \(select \* where row_number\(\) >= (\d+)(?: and (.+?))? limit (\d+)\)$/.exec(query);
  if (list) {
    const rows = dataset
      .map((sample, index) => ({ sample, index }))
      .filter((r) => r.index >= Number(list[2]) && matches(r.sample, list[3]))
      .slice(0, Number(list[4]));
    return HttpResponse.json(columns(list[1]!.split(", "), rows));
  }
  return HttpResponse.json({ description: `Failed to parse query: ${query.slice(0, 40)}` }, { status: 400 });
}

const { server, requests } = mockDeepLakeQueryApi(answer);
const store = (options: Parameters<typeof testDeepLakeStore>[1] = {}) => testDeepLakeStore(TOKEN, options);

describe("DeepLakeVectorStore search", () => {
  it("sends the Python client's cosine TQL with the bearer token and provider header", async () => {
    const hits = await store().search({ userId: "alice", embedding: Float32Array.from([0.5, -0.25, 0, 1]), k: 3 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.query).toBe(
      "select text, metadata, id, score from (select *, COSINE_SIMILARITY(embedding, ARRAY[0.5, -0.25, 0, 1]) as score " +
        "order by COSINE_SIMILARITY(embedding, ARRAY[0.5, -0.25, 0, 1]) DESC limit 3)",
    );
    expect(requests[0]!.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(requests[0]!.headers.get("x-activeloop-provider-type")).toBe("activeloop");
    const expected = dataset
      .map((s) => ({ id: s.id, score: cosine([0.5, -0.25, 0, 1], s.embedding) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    expect(hits[0]!.score).toBeCloseTo(expected[0]!.score, 6);
    expect(hits[0]).toMatchObject({ text: expect.stringMatching(/^Chunk number/), metadata: { user_id: expect.any(String) } });
  });

  it("formats tiny and negative components as numbers TQL reads", async () => {
    await store().search({ userId: "u", embedding: Float32Array.from([1e-7, -3.5e-9, 0.1, 2]), k: 1 });
    const array = /ARRAY\[([^\]]+)\]/.exec(requests[0]!.query)![1]!;
    expect(array.split(", ").map(Number)).toEqual(Array.from(Float32Array.from([1e-7, -3.5e-9, 0.1, 2])));
  });

  it("scopes search to a user's chunks with the filter option", async () => {
    const hits = await store({ filter: (userId) => ({ user_id: userId }) }).search({
      userId: "bob",
      embedding: Float32Array.from([1, 0, 0, 0]),
      k: 5,
    });
    expect(requests[0]!.query).toContain(" as score where metadata['user_id'] == 'bob' order by ");
    expect(hits).toHaveLength(5);
    for (const hit of hits) expect(hit.metadata).toMatchObject({ user_id: "bob" });
  });

  it("refuses values that could break out of a TQL literal before sending anything", async () => {
    const s = store({ filter: (userId) => ({ user_id: userId }) });
    await expect(s.search({ userId: "x' or true or 'a", embedding: Float32Array.from([1, 0, 0, 0]), k: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(s.search({ userId: "back\\slash", embedding: Float32Array.from([1, 0, 0, 0]), k: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(store().search({ userId: "u", embedding: Float32Array.from([Number.NaN, 0, 0, 0]), k: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(store().search({ userId: "u", embedding: Float32Array.from([1, 0, 0, 0]), k: 1.5 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(() => store({ tensors: { embedding: 'emb") or (1' } })).not.toThrow();
    await expect(
      store({ tensors: { embedding: 'emb") or (1' } }).search({ userId: "u", embedding: Float32Array.from([1]), k: 1 }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(requests).toHaveLength(0);
  });
});

describe("DeepLakeVectorStore listing", () => {
  it("walks the dataset in row order, page by page, with embeddings on request", async () => {
    const s = store();
    const chunks = (await allPages(s, { userId: "alice", limit: 10, includeEmbeddings: true })).flatMap((page) => page.chunks);
    for (const chunk of chunks) {
      const sample = dataset.find((d) => d.id === chunk.id)!;
      expect(chunk.embedding).toEqual(Float32Array.from(sample.embedding));
      expect(chunk.metadata).toEqual(sample.metadata);
    }
    expect(chunks.map((c) => c.id)).toEqual(dataset.map((d) => d.id));
    expect(requests.map((r) => r.query)).toEqual([
      "select id, text, metadata, embedding from (select * where row_number() >= 0 limit 10)",
      "select id, text, metadata, embedding from (select * where row_number() >= 10 limit 10)",
      "select id, text, metadata, embedding from (select * where row_number() >= 20 limit 10)",
    ]);
  });

  it("continues a filtered listing after the last row it returned", async () => {
    const s = store({ filter: (userId) => ({ user_id: userId }) });
    const first = await s.listChunks({ userId: "bob", cursor: null, limit: 4, includeEmbeddings: false });
    expect(first.chunks.map((c) => c.id)).toEqual(["doc-1", "doc-3", "doc-5", "doc-7"]);
    expect(first.chunks[0]!.embedding).toBeUndefined();
    expect(first.nextCursor).toBe("8");
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = await s.listChunks({ userId: "bob", cursor, limit: 4, includeEmbeddings: false });
      rest.push(...page.chunks.map((c) => c.id));
      cursor = page.nextCursor;
    }
    expect(rest).toEqual(["doc-9", "doc-11", "doc-13", "doc-15", "doc-17", "doc-19", "doc-21", "doc-23"]);
    expect(requests[1]!.query).toBe(
      "select id, text, metadata from (select * where row_number() >= 8 and metadata['user_id'] == 'bob' limit 4)",
    );
  });

  it("reads the row layout and comma-separated indices older servers sent", async () => {
    server.use(
      http.post(ENDPOINT, () =>
        HttpResponse.json({
          indices: "3,4",
          data: [
            { id: ["doc-3"], text: ["three"], metadata: '{"n":3}' },
            { id: ["doc-4"], text: ["four"], metadata: { n: 4 } },
          ],
        }),
      ),
    );
    const page = await store().listChunks({ userId: "u", cursor: "3", limit: 2, includeEmbeddings: false });
    expect(page).toEqual({
      chunks: [
        { id: "doc-3", text: "three", metadata: { n: 3 } },
        { id: "doc-4", text: "four", metadata: { n: 4 } },
      ],
      nextCursor: "5",
    });
  });

  it("rejects a cursor it did not issue", async () => {
    await expect(store().listChunks({ userId: "u", cursor: "ten", limit: 2, includeEmbeddings: false })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe("DeepLakeVectorStore errors", () => {
  const search = (s = store()) => s.search({ userId: "u", embedding: Float32Array.from([1, 0, 0, 0]), k: 2 });
  const failWith = (status: number, body: Record<string, unknown> = { description: "nope" }, headers: Record<string, string> = {}) =>
    server.use(
      http.post(ENDPOINT, async ({ request }) => {
        requests.push({ query: "", headers: request.headers });
        return HttpResponse.json(body, { status, headers });
      }),
    );

  it("does not retry a rejected token and says so", async () => {
    failWith(401, { description: "Invalid token" });
    const error = await search().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 401, retryable: false, provider: "deeplake", code: "UPSTREAM_FAILED" });
    expect((error as Error).message).toContain("Invalid token");
    expect(requests).toHaveLength(1);
  });

  it("marks 403, 404 and 400 as permanent", async () => {
    for (const status of [400, 403, 404, 422]) {
      failWith(status);
      await expect(search()).rejects.toMatchObject({ status, retryable: false });
    }
  });

  it("passes a rate limit on as retryable with the server's Retry-After, without retrying itself", async () => {
    failWith(429, { description: "Too many requests" }, { "Retry-After": "7" });
    const error = await search().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000, code: "RATE_LIMITED" });
    expect(requests).toHaveLength(1);
  });

  it("retries 502 and 504 and succeeds when the gateway recovers", async () => {
    let calls = 0;
    server.use(
      http.post(ENDPOINT, async ({ request }) => {
        calls++;
        if (calls === 1) return new HttpResponse("<html>502 Bad Gateway</html>", { status: 502 });
        if (calls === 2) return new HttpResponse("<html>504</html>", { status: 504 });
        return answer(((await request.json()) as { query: string }).query);
      }),
    );
    await expect(search()).resolves.toHaveLength(2);
    expect(calls).toBe(3);
  });

  it("gives up after three retries of a failing gateway with a retryable error", async () => {
    let calls = 0;
    server.use(http.post(ENDPOINT, () => (calls++, new HttpResponse("bad gateway", { status: 502 }))));
    await expect(search()).rejects.toMatchObject({ status: 502, retryable: true });
    expect(calls).toBe(4);
  });

  it("retries dropped connections, then reports them as retryable", async () => {
    let calls = 0;
    server.use(http.post(ENDPOINT, () => (calls++, HttpResponse.error())));
    const error = await search(store({ maxRetries: 2 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(calls).toBe(3);
  });

  it("does not retry a 500 itself but leaves it retryable", async () => {
    failWith(500, { description: "internal" });
    await expect(search()).rejects.toMatchObject({ status: 500, retryable: true });
    expect(requests).toHaveLength(1);
  });

  it("times out a request that hangs", async () => {
    server.use(http.post(ENDPOINT, () => new Promise<Response>(() => {})));
    await expect(search(store({ timeoutMs: 50 }))).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining("timed out"),
    });
  });
});

describe("DeepLakeVectorStore options", () => {
  it("needs a hub:// path (or org and dataset) and a token", () => {
    expect(() => new DeepLakeVectorStore({ path: "s3://bucket/ds", token: TOKEN })).toThrow(ValidationError);
    expect(() => new DeepLakeVectorStore({ path: "hub://acme/ds", token: "" })).toThrow(ValidationError);
    expect(() => new DeepLakeVectorStore({ org: "acme", dataset: "support-docs", token: TOKEN })).not.toThrow();
  });
});

describe("DeepLakeVectorStore textSearch", () => {
  it("is absent unless the dataset has a BM25 index and the option says so", () => {
    expect(store().textSearch).toBeUndefined();
    expect(store({ textSearch: true }).textSearch).toBeTypeOf("function");
  });

  it("sends BM25_SIMILARITY TQL in the cosine query's shape and leaves out chunks that share no term", async () => {
    const hits = await store({ textSearch: true, filter: (userId) => ({ user_id: userId }) }).textSearch!({
      userId: "bob",
      query: "number 7",
      k: 4,
    });
    expect(requests.map((r) => r.query)).toEqual([
      "select text, metadata, id, score from (select *, BM25_SIMILARITY(text, 'number 7') as score where metadata['user_id'] == 'bob' " +
        "order by BM25_SIMILARITY(text, 'number 7') DESC limit 4)",
    ]);
    expect(hits.map((h) => [h.id, h.score])).toEqual([
      ["doc-7", 2],
      ["doc-1", 1],
      ["doc-3", 1],
      ["doc-5", 1],
    ]);
    expect(hits[0]).toMatchObject({ text: "Chunk number 7", metadata: { user_id: "bob", n: 7 } });
    requests.length = 0;
    expect(await store({ textSearch: true }).textSearch!({ userId: "bob", query: "nothing here", k: 5 })).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it("turns characters TQL cannot quote into spaces instead of refusing the question", async () => {
    const hits = await store({ textSearch: true }).textSearch!({ userId: "alice", query: "what's chunk\\ 12?\n", k: 1 });
    expect(requests[0]!.query).toContain("BM25_SIMILARITY(text, 'what s chunk 12?')");
    expect(hits.map((h) => h.id)).toEqual(["doc-12"]);
    requests.length = 0;
    expect(await store({ textSearch: true }).textSearch!({ userId: "alice", query: "' \\ '", k: 3 })).toEqual([]);
    expect(await store({ textSearch: true }).textSearch!({ userId: "alice", query: "chunk", k: 0 })).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it("reports a dataset without a BM25 index as the service's non-retryable error", async () => {
    server.use(
      http.post(ENDPOINT, () => HttpResponse.json({ description: "Column text does not have a bm25 index" }, { status: 400 })),
    );
    const error = await store({ textSearch: true }).textSearch!({ userId: "alice", query: "chunk", k: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 400, retryable: false, message: expect.stringContaining("bm25 index") });
  });

  it("stops at once when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(store({ textSearch: true }).textSearch!({ userId: "alice", query: "chunk", k: 3, signal: controller.signal })).rejects.toMatchObject({
      code: "ABORTED",
    });
    expect(requests).toHaveLength(0);
  });
});
