import { describe, expect, it } from "vitest";
import {
  decodeJobStreamEvent,
  encodeJobStreamEvent,
  encodeSseComment,
  encodeSseMessage,
  encodeSseRetry,
  parseSseStream,
  SseParser,
  type JobStreamEvent,
} from "./index.js";

const progress: JobStreamEvent = {
  type: "progress",
  seq: 7,
  job_id: "job-1",
  training_run_id: "run-1",
  kind: "generate",
  at: "2026-01-01T00:00:00.000Z",
  phase: "generating",
  processed: 3,
  total: 10,
  percent: 30,
  pair_count: 12,
  skipped_chunks: 0,
};

describe("SSE encoding", () => {
  it("writes id, event and data lines ending with a blank line", () => {
    expect(encodeSseMessage({ id: "3", event: "progress", data: '{"a":1}' })).toBe('id: 3\nevent: progress\ndata: {"a":1}\n\n');
  });

  it("splits multi-line data into several data lines", () => {
    expect(encodeSseMessage({ data: "one\ntwo\r\nthree" })).toBe("data: one\ndata: two\ndata: three\n\n");
  });

  it("refuses an id or event name with a newline, which would forge fields", () => {
    expect(() => encodeSseMessage({ id: "1\nevent: x", data: "" })).toThrow(TypeError);
    expect(() => encodeSseMessage({ event: "a\rb", data: "" })).toThrow(TypeError);
  });

  it("writes comments and retry advice that dispatch no message", () => {
    const parser = new SseParser();
    expect(parser.push(encodeSseComment("heartbeat") + encodeSseRetry(2500))).toEqual([]);
    expect(parser.retry).toBe(2500);
  });

  it("encodes a job event with its seq as id and its type as event name", () => {
    const text = encodeJobStreamEvent(progress);
    expect(text.startsWith("id: 7\nevent: progress\ndata: ")).toBe(true);
    const [message] = new SseParser().push(text);
    expect(decodeJobStreamEvent(message!)).toEqual(progress);
  });

  it("encodes a status event (no seq) without an id line", () => {
    const status: JobStreamEvent = {
      type: "status",
      job_id: "j",
      training_run_id: "r",
      kind: null,
      at: "2026-01-01T00:00:00.000Z",
      status: {
        training_run_id: "r",
        job_id: "j",
        kind: null,
        status: "generating",
        active: true,
        phase: null,
        processed_chunks: 1,
        total_chunks: 2,
        pair_count: 4,
        percent: 50,
        error: null,
        metrics: null,
      },
    };
    const text = encodeJobStreamEvent(status);
    expect(text).not.toContain("id:");
    expect(decodeJobStreamEvent(new SseParser().push(text)[0]!)).toEqual(status);
  });
});

describe("SseParser", () => {
  const stream = [
    "\uFEFF: hello\n",
    "retry: 1000\n\n",
    "id: 1\nevent: started\ndata: {\"x\":1}\n\n",
    "id: 2\r\nevent: progress\r\ndata: line1\r\ndata: line2\r\n\r\n",
    "data:no-space\rid: 3\r\r",
    "event: ignored-no-data\n\n",
    "data: tail-without-blank-line",
  ].join("");
  const expected = [
    { lastEventId: "1", id: "1", event: "started", data: '{"x":1}' },
    { lastEventId: "2", id: "2", event: "progress", data: "line1\nline2" },
    { lastEventId: "3", id: "3", event: "message", data: "no-space" },
  ];

  it("parses a whole stream: BOM, comments, CR/LF/CRLF, multi-line data, default event name", () => {
    const comments: string[] = [];
    const parser = new SseParser({ onComment: (c) => comments.push(c) });
    expect([...parser.push(stream), ...parser.end()]).toEqual(expected);
    expect(comments).toEqual(["hello"]);
    expect(parser.retry).toBe(1000);
  });

  it("gives the same messages whatever the chunking, even a CRLF split in two", () => {
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...parser.push(stream.slice(i, i + size)));
      got.push(...parser.end());
      expect(got, `chunk size ${size}`).toEqual(expected);
    }
  });

  it("keeps the last event id across messages without an id, and ignores ids with NUL", () => {
    const parser = new SseParser();
    const got = parser.push("id: 5\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n");
    expect(got.map((m) => [m.lastEventId, m.id])).toEqual([
      ["5", "5"],
      ["5", undefined],
      ["5", undefined],
    ]);
  });

  it("reads a byte stream with multi-byte characters split across chunks", async () => {
    const bytes = new TextEncoder().encode('id: 1\ndata: {"q":"Ünïcødé ✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const got = [];
    for await (const message of parseSseStream(body)) got.push(message);
    expect(got).toEqual([{ lastEventId: "1", id: "1", event: "message", data: '{"q":"Ünïcødé ✓"}' }]);
  });
});

describe("decodeJobStreamEvent", () => {
  it("returns null for an event type this client does not know", () => {
    expect(decodeJobStreamEvent({ event: "something_new", data: "{}" })).toBeNull();
  });

  it("throws for a known event with malformed data", () => {
    expect(() => decodeJobStreamEvent({ event: "progress", data: '{"type":"progress"}' })).toThrow();
    expect(() => decodeJobStreamEvent({ event: "progress", data: "not json" })).toThrow();
  });
});
