import { z } from "zod";

export const chatRequestSchema = z.object({ message: z.string().trim().min(1).max(4000) }).strict();

/** What POST /api/chat answers; shared by the route and the chat box. */
export interface ChatReply {
  answer: string;
  sources: { id: string; title: string; text: string }[];
  /** Whether the user's deep memory shaped this retrieval, and why not when it did not. */
  deepMemory: { used: boolean; reason: string | null; retrieval: string };
}
