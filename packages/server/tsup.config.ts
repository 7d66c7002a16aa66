import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", hono: "src/hono.ts", next: "src/next.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  // Web standards only (Request, Response, ReadableStream, Web Crypto): Node, Bun, Deno and edge runtimes alike.
  platform: "neutral",
});
