import { type DeepMemoryTrainer } from "@zip/deep-memory";
import { describeFusion } from "@zip/deep-memory/retrieval";
import { methodNotAllowed, toHttpError, type GetUserId } from "@zip/deep-memory-express";
import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { Answerer } from "./answer.js";

export const chatRequestSchema = z
  .object({
    message: z.string().trim().min(1).max(4000),
    /** Passages to retrieve. */
    k: z.number().int().min(1).max(20).default(4),
  })
  .strict();
export type ChatRequest = z.input<typeof chatRequestSchema>;

export interface ChatSource {
  id: string;
  title: string;
  text: string;
  score: number;
}

export interface ChatResponse {
  answer: string;
  sources: ChatSource[];
  /**
   * Whether the user's trained deep memory shaped this retrieval, and why not
   * when it did not; `retrieval` says how keyword and vector results were
   * combined (hybrid search: the knowledge base's in-memory store has BM25).
   */
  deep_memory: { used: boolean; model_run_id: string | null; reason: string | null; retrieval: string };
}

/**
 * The backend's existing chat endpoint, with one change for deep memory:
 * retrieval goes through `trainer.search`, which applies the user's deep
 * memory when they enabled it (and a model that beat plain search exists)
 * and fuses its vector results with keyword (BM25) results, as the model's
 * training chose.
 */
export function createChatRouter(options: { trainer: Pick<DeepMemoryTrainer, "search">; getUserId: GetUserId; answerer: Answerer }): Router {
  const router = express.Router();
  router.post("/chat", express.json({ limit: "32kb" }), async (req: Request, res: Response) => {
    try {
      const userId = await identify(options.getUserId, req);
      if (userId === null) return void res.status(401).json({ error: { code: "UNAUTHORIZED", message: "Authentication required" } });
      const parsed = chatRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message }));
        return void res.status(400).json({ error: { code: "VALIDATION_FAILED", message: "Invalid chat request", details: { issues } } });
      }
      const { message, k } = parsed.data;
      const retrieved = await options.trainer.search({ userId, query: message, k });
      const answer = await options.answerer.answer({ question: message, passages: retrieved.hits });
      const body: ChatResponse = {
        answer,
        sources: retrieved.hits.map((hit) => ({
          id: hit.id,
          title: typeof hit.metadata?.title === "string" ? hit.metadata.title : hit.id,
          text: hit.text,
          score: hit.score,
        })),
        deep_memory: {
          used: retrieved.deepMemory.used,
          model_run_id: retrieved.deepMemory.modelRunId,
          reason: retrieved.deepMemory.reason,
          retrieval: describeFusion(retrieved.deepMemory.fusion),
        },
      };
      res.set("cache-control", "no-store").json(body);
    } catch (error) {
      const http = toHttpError(error);
      if (http.status >= 500) console.error("[chat]", error);
      res.status(http.status).set(http.headers ?? {}).json(http.body);
    }
  });
  router.all("/chat", methodNotAllowed(["POST"]));
  // express.json()'s failures (malformed JSON, a charset it cannot read, a broken gzip body, too large) reach here.
  router.use("/chat", (error: unknown, _req: Request, res: Response, next: (error?: unknown) => void) => {
    if (res.headersSent) return next(error);
    const http = toHttpError(error);
    if (http.status >= 500) console.error("[chat]", error);
    res.status(http.status).set(http.headers ?? {}).json(http.body);
  });
  return router;
}

async function identify(getUserId: GetUserId, req: Request): Promise<string | null> {
  try {
    const userId = await getUserId(req);
    return typeof userId === "string" && userId !== "" ? userId : null;
  } catch {
    return null;
  }
}
