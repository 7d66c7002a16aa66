import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { UpstreamError, ValidationError } from "../../errors/errors.js";
import { deeplakeEndpoint as ENDPOINT, mockDeepLakeQueryApi, testDeepLakeStore } from "./deeplake-query-api.test-support.js";

/**
 * DeepLakeVectorStore.getEmbeddings against the managed Tensor Database's
 * query API through msw, in the shapes deeplake-vector-store.test.ts uses
 * (TQL in `{query}`, `{indices, data: {tensor: [...]}}` back). The handler
 * evaluates the one TQL form getEmbeddings sends against a small dataset.
 */

const dataset = Array.from({ length: 8 }, (_, i) => ({
  id: `doc-${i}`,
  metadata: { user_id: i % 2 === 0 ? "alice" : "bob" },
  embedding: [i / 8, 0.5 - i / 16, 0.1 * i, 1],
}));

/** `select id, embedding from (select * where (id == '..' or ...) [and metadata['k'] == '..'])`; else a 400 like a TQL syntax error. */
function answer(query: string) {
  const m = /^select id, embedding from \(select \* where \(((?:id == '[^']*'(?: or )?)+)\)(?: and metadata\['(\w+)'\] == '([^']*)')?\)$/.exec(query);
  if (!m) return HttpResponse.json({ description: `Failed to parse query: ${query.slice(0, 40)}` }, { status: 400 });
  const ids = new Set([...m[1]!.matchAll(/id == '([^']*)'/g)].map((x) => x[1]));
  const rows = dataset
    .map((sample, index) => ({ sample, index }))
    .filter(({ sample }) => ids.has(sample.id) && (!m[2] || (sample.metadata as Record<string, unknown>)[m[2]] === m[3]));
  return HttpResponse.json({
    indices: rows.map((r) => r.index),
    data: { id: rows.map((r) => r.sample.id), embedding: rows.map((r) => r.sample.embedding) },
  });
}

const api = mockDeepLakeQueryApi(answer);
const { server, requests } = api;
/** The TQL of each request so far. */
const queries = () => requests.map((r) => r.query);
const store = (options: Parameters<typeof testDeepLakeStore>[1] = {}) => testDeepLakeStore("al-test-token", options);
const scoped = () => store({ filter: (userId) => ({ user_id: userId }) });
const vector = (i: number) => Float32Array.from(dataset[i]!.embedding);

describe("DeepLakeVectorStore getEmbeddings", () => {
  it("fetches the user's chunks' embeddings in one TQL query, leaving out ids it does not hold for that user", async () => {
    const found = await scoped().getEmbeddings({ userId: "alice", ids: ["doc-2", "doc-3", "doc-6", "missing"] });
    expect(queries()).toEqual([
      "select id, embedding from (select * where (id == 'doc-2' or id == 'doc-3' or id == 'doc-6' or id == 'missing') " +
        "and metadata['user_id'] == 'alice')",
    ]);
    expect([...found.keys()].sort()).toEqual(["doc-2", "doc-6"]);
    expect(found.get("doc-2")).toBeInstanceOf(Float32Array);
    expect(found.get("doc-2")).toEqual(vector(2));
    expect(found.get("doc-6")).toEqual(vector(6));
  });

  it("matches ids alone without the filter option, asking for each id once", async () => {
    const found = await store().getEmbeddings({ userId: "anyone", ids: ["doc-1", "doc-0", "doc-1"] });
    expect(queries()).toEqual(["select id, embedding from (select * where (id == 'doc-1' or id == 'doc-0'))"]);
    expect(found).toEqual(
      new Map([
        ["doc-1", vector(1)],
        ["doc-0", vector(0)],
      ]),
    );
  });

  it("sends no request for no ids", async () => {
    expect(await scoped().getEmbeddings({ userId: "alice", ids: [] })).toEqual(new Map());
    expect(requests).toHaveLength(0);
  });

  it("never puts an id that could end its TQL literal into the query", async () => {
    const hostile = ["doc-0') or (id != '", "doc-2'", "back\\slash", "new\nline"];
    const found = await scoped().getEmbeddings({ userId: "alice", ids: [...hostile, "doc-4"] });
    expect(queries()).toEqual(["select id, embedding from (select * where (id == 'doc-4') and metadata['user_id'] == 'alice')"]);
    expect([...found.keys()]).toEqual(["doc-4"]);
    requests.length = 0;
    expect(await scoped().getEmbeddings({ userId: "alice", ids: hostile })).toEqual(new Map());
    await expect(scoped().getEmbeddings({ userId: "x' or true or 'a", ids: ["doc-0"] })).rejects.toBeInstanceOf(ValidationError);
    expect(requests).toHaveLength(0);
  });

  it("rejects ids that are not a list of strings", async () => {
    for (const ids of [undefined, "doc-0", [1], [null]]) {
      await expect(store().getEmbeddings({ userId: "u", ids: ids as unknown as string[] })).rejects.toBeInstanceOf(ValidationError);
    }
    expect(requests).toHaveLength(0);
  });

  it("reads the row layout, one-element id lists, and keeps only rows with an embedding for the ids asked", async () => {
    server.use(
      http.post(ENDPOINT, () =>
        HttpResponse.json({
          indices: "3,4,5,3",
          data: [
            { id: ["doc-3"], embedding: [0.5, 0.25] },
            { id: ["doc-4"], embedding: null },
            { id: "not-asked", embedding: [1, 1] },
            { id: ["doc-3"], embedding: [9, 9] },
          ],
        }),
      ),
    );
    const found = await store().getEmbeddings({ userId: "u", ids: ["doc-3", "doc-4"] });
    expect(found).toEqual(new Map([["doc-3", Float32Array.from([0.5, 0.25])]]));
  });

  it("maps HTTP errors as the other methods do", async () => {
    server.use(http.post(ENDPOINT, () => HttpResponse.json({ description: "Invalid token" }, { status: 401 })));
    const error = await store().getEmbeddings({ userId: "u", ids: ["doc-0"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 401, retryable: false, provider: "deeplake", message: expect.stringContaining("Invalid token") });
    server.use(http.post(ENDPOINT, () => HttpResponse.json({ description: "slow down" }, { status: 429, headers: { "Retry-After": "3" } })));
    await expect(store().getEmbeddings({ userId: "u", ids: ["doc-0"] })).rejects.toMatchObject({ status: 429, retryable: true, retryAfterMs: 3000 });
  });

  it("passes the caller's signal to the request and stops when it aborts", async () => {
    const already = new AbortController();
    already.abort();
    await expect(store().getEmbeddings({ userId: "u", ids: ["doc-0"], signal: already.signal })).rejects.toMatchObject({ code: "ABORTED" });
    expect(requests).toHaveLength(0);

    const controller = new AbortController();
    server.use(
      http.post(ENDPOINT, () => {
        controller.abort();
        return new Promise<Response>(() => {});
      }),
    );
    await expect(store().getEmbeddings({ userId: "u", ids: ["doc-0"], signal: controller.signal })).rejects.toMatchObject({
      code: "ABORTED",
    });
  });
});
