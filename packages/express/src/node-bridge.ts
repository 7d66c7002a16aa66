import type { Request as ExpressRequest, Response as ExpressResponse } from "express";

/*
 * Express request -> fetch Request, fetch Response -> Express response: the
 * whole of what the Express router adds to the fetch handler. Bodies stream
 * both ways; an event stream is written as it comes (never buffered), with
 * backpressure, and cancelled when the client goes.
 */

const bodiless = new Set(["GET", "HEAD"]);

/** The request as the fetch handler sees it; `signal` aborts when the client goes away. */
export function toFetchRequest(req: ExpressRequest, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      // A value fetch's Headers refuses (Node accepts more): the handler never reads such headers.
    }
  }
  const url = `http://localhost${req.originalUrl.startsWith("/") ? "" : "/"}${req.originalUrl}`;
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, signal };
  if (!bodiless.has(req.method)) {
    if ((req as { _body?: unknown })._body === true) {
      // The host's own body parser already read it (express.json() before the router): hand over what it parsed.
      headers.delete("content-length");
      headers.delete("content-encoding");
      headers.delete("transfer-encoding");
      headers.set("content-type", "application/json");
      init.body = JSON.stringify(req.body);
    } else if (headers.has("transfer-encoding") || (headers.has("content-length") && headers.get("content-length")!.trim() !== "0")) {
      init.body = nodeBodyStream(req);
      init.duplex = "half";
    }
  }
  return new Request(url, init);
}

/** The request body as a web stream that reads only when pulled (a body the handler refuses unread is drained later). */
function nodeBodyStream(req: ExpressRequest): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.pause();
      req.on("data", (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      req.on("error", (error) => {
        if (done) return;
        done = true;
        controller.error(error);
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  });
}

/** Writes through compression middleware too, which buffers unless flushed. */
function flush(res: ExpressResponse): void {
  (res as ExpressResponse & { flush?: () => void }).flush?.();
}

/** Sends a fetch Response: JSON through res.send (Content-Length, ETag as Express does), streams chunk by chunk. */
export async function sendFetchResponse(req: ExpressRequest, res: ExpressResponse, request: Request, response: Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => res.setHeader(name, value));
  // Whatever of the request body the handler did not read is discarded, so the connection stays usable.
  if (request.body && !request.bodyUsed && !request.body.locked) void request.body.cancel().catch(() => {});
  if (!req.readableEnded) req.resume();
  if (response.body === null) {
    res.end();
    return;
  }
  if (!/^text\/event-stream/i.test(response.headers.get("content-type") ?? "")) {
    res.send(Buffer.from(await response.arrayBuffer()));
    return;
  }
  // Events are small and latency matters more than packet count.
  res.socket?.setNoDelay(true);
  res.flushHeaders();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const gone = () => void reader.cancel().catch(() => {});
  res.on("close", gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => {
        const settle = () => {
          res.off("drain", settle);
          res.off("close", settle);
          resolve();
        };
        res.on("drain", settle);
        res.on("close", settle);
      });
      flush(res);
      if (res.destroyed) return;
    }
    res.end();
  } catch {
    // The handler dropped a client that stopped reading: close the connection; it resumes with Last-Event-ID.
    res.destroy();
  } finally {
    res.off("close", gone);
  }
}

/** An AbortSignal that aborts when the response closes before it finished (the client went away). */
export function clientGone(res: ExpressResponse): AbortSignal {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
