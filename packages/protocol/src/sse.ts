import { JOB_STREAM_EVENT_TYPES, jobStreamEventSchema, type JobStreamEvent } from "./events.js";

/*
 * Server-Sent Events as the HTML standard defines them
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html): the
 * encoder servers write with, and an incremental parser for clients that read
 * the stream with fetch (EventSource cannot send an Authorization header).
 */

export interface SseMessageInit {
  id?: string;
  event?: string;
  /** Any string; newlines become several `data:` lines and are restored by the parser. */
  data: string;
  retry?: number;
}

function assertSingleLine(field: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new TypeError(`SSE ${field} must not contain newlines or NUL: ${JSON.stringify(value)}`);
}

export function encodeSseMessage(message: SseMessageInit): string {
  let out = "";
  if (message.id !== undefined) {
    assertSingleLine("id", message.id);
    out += `id: ${message.id}\n`;
  }
  if (message.event !== undefined) {
    assertSingleLine("event", message.event);
    out += `event: ${message.event}\n`;
  }
  if (message.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(message.retry))}\n`;
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by clients, keeps proxies and load balancers from timing the connection out. */
export function encodeSseComment(text = ""): string {
  return `${text
    .split(/\r\n|\r|\n/)
    .map((line) => `: ${line}`)
    .join("\n")}\n\n`;
}

/** Tells an EventSource how long to wait before reconnecting. */
export function encodeSseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** One job stream event as an SSE message: `id:` its seq (when it has one), `event:` its type, `data:` its JSON. */
export function encodeJobStreamEvent(event: JobStreamEvent): string {
  return encodeSseMessage({
    ...("seq" in event ? { id: String(event.seq) } : {}),
    event: event.type,
    data: JSON.stringify(event),
  });
}

export interface SseMessage {
  /** The last event id seen on the stream so far (what a reconnect sends as Last-Event-ID); "" when none. */
  lastEventId: string;
  /** The `id:` of this message itself, when it had one. */
  id: string | undefined;
  /** "message" when the message had no `event:` line. */
  event: string;
  data: string;
}

export interface SseParserOptions {
  onComment?: (text: string) => void;
  onRetry?: (ms: number) => void;
}

/**
 * Incremental SSE parser: feed it text as it arrives (any chunking, CR, LF or
 * CRLF line ends) and it returns the messages completed so far.
 */
export class SseParser {
  private buffer = "";
  private started = false;
  private data: string[] = [];
  private hasData = false;
  private eventType = "";
  private messageId: string | undefined;
  /** Persists across messages, as in EventSource. */
  lastEventId = "";
  retry: number | undefined;

  constructor(private readonly options: SseParserOptions = {}) {}

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    if (!this.started && this.buffer.length > 0) {
      this.started = true;
      if (this.buffer.charCodeAt(0) === 0xfeff) this.buffer = this.buffer.slice(1);
    }
    const messages: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
      if (ch === "\r" && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i), messages);
      if (ch === "\r" && this.buffer[i + 1] === "\n") i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return messages;
  }

  /** Ends the stream. A message without its closing blank line is discarded, as the standard says. */
  end(): SseMessage[] {
    const messages: SseMessage[] = [];
    if (this.buffer.endsWith("\r")) this.line(this.buffer.slice(0, -1), messages);
    this.buffer = "";
    this.resetMessage();
    return messages;
  }

  private line(line: string, messages: SseMessage[]): void {
    if (line === "") {
      if (this.hasData) {
        messages.push({ lastEventId: this.lastEventId, id: this.messageId, event: this.eventType || "message", data: this.data.join("\n") });
      }
      this.resetMessage();
      return;
    }
    if (line.startsWith(":")) {
      this.options.onComment?.(line.slice(1).replace(/^ /, ""));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) {
          this.lastEventId = value;
          this.messageId = value;
        }
        break;
      case "retry":
        if (/^\d+$/.test(value)) {
          this.retry = Number(value);
          this.options.onRetry?.(this.retry);
        }
        break;
      default:
      // Unknown fields are ignored.
    }
  }

  private resetMessage(): void {
    this.data = [];
    this.hasData = false;
    this.eventType = "";
    this.messageId = undefined;
  }
}

/** Reads an SSE byte stream (e.g. a fetch Response body) message by message. */
export async function* parseSseStream(
  stream: ReadableStream<Uint8Array>,
  options: SseParserOptions & { parser?: SseParser } = {},
): AsyncGenerator<SseMessage> {
  const parser = options.parser ?? new SseParser(options);
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // Cancelling tells the server the client went away; harmless once the stream ended. Not awaited:
    // some fetch implementations never settle cancel() on a body still being written.
    void reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * The job stream event an SSE message carries; null for an event type this
 * client does not know (a newer server), so it can skip it. Throws when a
 * known event's data is malformed.
 */
export function decodeJobStreamEvent(message: Pick<SseMessage, "event" | "data">): JobStreamEvent | null {
  if (!(JOB_STREAM_EVENT_TYPES as readonly string[]).includes(message.event)) return null;
  return jobStreamEventSchema.parse(JSON.parse(message.data));
}
