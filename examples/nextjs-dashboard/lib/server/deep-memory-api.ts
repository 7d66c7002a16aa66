import type { AddressInfo } from "node:net";
import { createDeepMemoryRouter, jsonErrorHandler, jsonNotFound } from "@zip/deep-memory-express";
import express from "express";
import { getBackend } from "./backend";
import { requireUserId } from "./session";

/**
 * INTERIM, until @zip/deep-memory-server's fetch-standard handler is on main:
 * the Express router listens on a private loopback port and the route handler
 * forwards each request to it, streaming the answer back (event streams too).
 */
async function startApi(): Promise<string> {
  const { trainer } = await getBackend();
  const app = express();
  app.disable("x-powered-by");
  app.use(
    "/api/deep-memory",
    createDeepMemoryRouter({
      trainer,
      getUserId: (req) =>
        requireUserId(new Request("http://internal/", { headers: { cookie: req.headers.cookie ?? "", authorization: req.headers.authorization ?? "" } })),
    }),
  );
  app.use(jsonNotFound());
  app.use(jsonErrorHandler({ onError: (error) => console.error("[deep-memory]", error) }));
  const server = await new Promise<import("node:http").Server>((resolve, reject) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const holder = globalThis as typeof globalThis & { __deepMemoryApi?: Promise<string> };

export async function handleDeepMemory(request: Request): Promise<Response> {
  holder.__deepMemoryApi ??= startApi();
  const origin = await holder.__deepMemoryApi;
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host");
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, signal: request.signal, redirect: "manual" };
  if (request.method !== "GET" && request.method !== "HEAD") {
    init.body = await request.arrayBuffer();
  }
  const upstream = await fetch(`${origin}${url.pathname}${url.search}`, init);
  const out = new Headers(upstream.headers);
  // fetch already decoded the body; the framing headers of the hop do not apply to our answer.
  for (const name of ["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"]) out.delete(name);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}
