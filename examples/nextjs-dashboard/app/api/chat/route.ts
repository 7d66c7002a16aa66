import { DeepMemoryError, httpStatusFor, type SearchHit } from "@zip/deep-memory";
import { describeFusion } from "@zip/deep-memory/retrieval";
import { chatRequestSchema, type ChatReply } from "@/lib/chat";
import { getBackend } from "@/lib/server/backend";
import { requireUserId } from "@/lib/server/session";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * The app's chat, with one change for deep memory: retrieval goes through
 * `trainer.search`, which applies the user's deep memory when they switched
 * it on. The reply quotes the best passage (no LLM in local mode), so what
 * deep memory changes is which passage comes first.
 */
export async function POST(request: Request): Promise<Response> {
  try {
    const userId = await requireUserId(request);
    const parsed = chatRequestSchema.safeParse(await request.json().catch(() => null));
    if (!parsed.success) return error(400, "VALIDATION_FAILED", "Send {\"message\": \"...\"}");
    const { trainer } = await getBackend();
    const { hits, deepMemory } = await trainer.search({ userId, query: parsed.data.message, k: 4 });
    const reply: ChatReply = {
      answer: answerFrom(hits),
      sources: hits.map((hit) => ({ id: hit.id, title: titleOf(hit), text: hit.text })),
      deepMemory: { used: deepMemory.used, reason: deepMemory.reason, retrieval: describeFusion(deepMemory.fusion) },
    };
    return Response.json(reply, { headers: { "cache-control": "no-store" } });
  } catch (caught) {
    if (DeepMemoryError.isInstance(caught)) return error(httpStatusFor(caught.code), caught.code, caught.message);
    console.error("[chat]", caught);
    return error(500, "INTERNAL", "The chat failed");
  }
}

function titleOf(hit: SearchHit): string {
  return typeof hit.metadata?.title === "string" ? hit.metadata.title : hit.id;
}

function answerFrom(hits: readonly SearchHit[]): string {
  const [best] = hits;
  if (!best) return "I found nothing in the knowledge base about that.";
  const title = titleOf(best);
  const body = best.text.startsWith(`${title}. `) ? best.text.slice(title.length + 2) : best.text;
  return `From "${title}": ${body}`;
}

function error(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "cache-control": "no-store" } });
}
