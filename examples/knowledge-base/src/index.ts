import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface KnowledgeBaseDocument {
  id: string;
  title: string;
  text: string;
  /** Questions a reader would ask that this document answers; never used for training. */
  evalQuestions: string[];
}

/** The documents, parsed from documents.md (one "## id | title" section each, questions as "Q:" lines). */
export function loadKnowledgeBase(): KnowledgeBaseDocument[] {
  const source = readFileSync(fileURLToPath(new URL("./documents.md", import.meta.url)), "utf8");
  return parseKnowledgeBase(source);
}

export function parseKnowledgeBase(source: string): KnowledgeBaseDocument[] {
  const docs: KnowledgeBaseDocument[] = [];
  for (const section of source.split(/^## /m).slice(1)) {
    const [header = "", ...lines] = section.split("\n");
    const [id, title] = header.split("|").map((s) => s.trim());
    if (!id || !title) throw new Error(`Malformed knowledge-base header: ${header}`);
    const evalQuestions = lines.filter((l) => l.startsWith("Q: ")).map((l) => l.slice(3).trim());
    const text = lines.filter((l) => !l.startsWith("Q: ")).join("\n").trim();
    docs.push({ id, title, text, evalQuestions });
  }
  return docs;
}
