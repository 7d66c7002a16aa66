/**
 * The example RAG backend with deep memory:
 *
 *   pnpm example:server             # builds the admin screen, serves API + admin at http://localhost:3000
 *   OPENAI_API_KEY=... pnpm example:server   # OpenAI embeddings, gpt-4o questions and answers
 *
 * Environment: PORT (3000), HOST (127.0.0.1), DEEP_MEMORY_DATA_DIR (.deep-memory/example-server),
 * DATABASE_URL (keep runs in PostgreSQL instead of the PGlite folder), DEEP_MEMORY_INSTANCE_ID (this server's
 * name in run leases; a restart under the same name resumes its interrupted runs at once; default: the PGlite
 * folder, or host and port with DATABASE_URL),
 * ADMIN_DIR (../react-admin/dist), CORS_ORIGINS (the Vite dev server's), GENERATION_DELAY_MS (0),
 * SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL (verify Supabase access tokens instead of the dev x-user-id header),
 * DEEP_MEMORY_MODEL_DIR (where the local embedding model lives, docs/local-models.md).
 */
import { fileURLToPath } from "node:url";
import { DeepMemoryError } from "@zip/deep-memory";
import { DEMO_USER_ID, DEV_USER_HEADER, authFromEnv } from "./auth.js";
import { startServer } from "./server.js";

const env = process.env;
const port = Number(env.PORT ?? 3000);
const adminDir = env.ADMIN_DIR ?? fileURLToPath(new URL("../../react-admin/dist", import.meta.url));
const corsOrigins = (env.CORS_ORIGINS ?? "http://localhost:5173,http://127.0.0.1:5173").split(",").map((s) => s.trim()).filter(Boolean);
const delayMs = env.GENERATION_DELAY_MS ? Number(env.GENERATION_DELAY_MS) : undefined;

async function main() {
  const started = performance.now();
  const auth = authFromEnv(env);
  const running = await startServer({
    dataDir: env.DEEP_MEMORY_DATA_DIR ?? ".deep-memory/example-server",
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.DEEP_MEMORY_INSTANCE_ID ? { instanceId: env.DEEP_MEMORY_INSTANCE_ID } : {}),
    port,
    host: env.HOST ?? "127.0.0.1",
    adminDir,
    corsOrigins,
    getUserId: auth.getUserId,
    authLabel: auth.kind,
    ...(delayMs !== undefined ? { trainerOptions: { delayMs } } : {}),
  });
  const { backend } = running;
  console.log(`Example RAG backend ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${running.url}`);
  console.log(`  ${backend.passages.length} passages of the example knowledge base; ${backend.providers.label}`);
  console.log(`  runs kept in  ${env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : (env.DEEP_MEMORY_DATA_DIR ?? ".deep-memory/example-server")}; lease id ${backend.instanceId ?? "host:pid"}`);
  console.log(`  admin screen  ${running.url}/`);
  console.log(`  chat          POST ${running.url}/v1/api/chat {"message": "..."}`);
  console.log(`  deep memory   ${running.url}/v1/api/deep-memory (OpenAPI: /v1/api/deep-memory/openapi.json)`);
  console.log(`  job events    ${running.url}/v1/api/events/stream/:jobId`);
  console.log(
    auth.kind === "supabase"
      ? "  auth          Supabase access tokens (Authorization: Bearer ...)"
      : `  auth          dev scheme: header ${DEV_USER_HEADER}: <uuid>, else the demo user ${DEMO_USER_ID}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return process.exit(1); // a second Ctrl-C does not wait
    stopping = true;
    console.log(`\n${signal}: stopping (running jobs stay resumable)`);
    running.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error) => {
  if (DeepMemoryError.isInstance(error) && error.code === "VALIDATION_FAILED") {
    console.error(`\nThe example server could not start:\n\n${error.message}\n\nOr set OPENAI_API_KEY to use OpenAI instead.`);
  } else if ((error as { code?: unknown }).code === "EADDRINUSE") {
    console.error(`\nThe example server could not start: ${(error as Error).message}. Stop what uses that port, or set PORT to another one.`);
  } else console.error("\nThe example server could not start:", error);
  process.exit(1);
});
