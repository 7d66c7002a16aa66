import { packageBuild } from "../../tsup.base.js";

export default packageBuild({
  entry: { index: "src/index.ts", hono: "src/hono.ts", next: "src/next.ts", supabase: "src/supabase-auth.ts" },
  target: "es2022",
  // Web standards only (Request, Response, ReadableStream, Web Crypto): Node, Bun, Deno and edge runtimes alike.
  platform: "neutral",
  // jose (the /supabase entry's token checks) is ESM-only; bundling it keeps the CommonJS build loadable by require() on Node 20.
  noExternal: ["jose"],
});
