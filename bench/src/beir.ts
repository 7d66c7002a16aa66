import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";

export interface BeirDocument {
  id: string;
  /** Title and text joined the way sentence-transformers/MTEB embed BEIR documents. */
  text: string;
}

export interface BeirDataset {
  name: string;
  dir: string;
  documents: BeirDocument[];
  queries: Map<string, string>;
  /** Per split: query id -> relevant document ids (score > 0). */
  qrels: Record<string, Map<string, Set<string>>>;
  /** sha256 of corpus.jsonl, used to key embedding caches. */
  corpusHash: string;
}

const docLine = z.object({ _id: z.union([z.string(), z.number()]), title: z.string().nullish(), text: z.string().nullish() });
const queryLine = z.object({ _id: z.union([z.string(), z.number()]), text: z.string() });

async function* jsonLines(path: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    try {
      yield JSON.parse(line);
    } catch {
      throw new Error(`${path}:${n} is not valid JSON`);
    }
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Reads a BEIR folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Titles may be empty; ids are strings. */
export async function loadBeir(dir: string, options: { splits?: string[] } = {}): Promise<BeirDataset> {
  const corpusPath = join(dir, "corpus.jsonl");
  const queriesPath = join(dir, "queries.jsonl");
  for (const p of [corpusPath, queriesPath]) if (!existsSync(p)) throw new Error(`${p} not found: is ${dir} a BEIR-layout folder?`);
  const documents: BeirDocument[] = [];
  for await (const raw of jsonLines(corpusPath)) {
    const doc = docLine.parse(raw);
    const title = (doc.title ?? "").trim();
    const text = (doc.text ?? "").trim();
    documents.push({ id: String(doc._id), text: title ? `${title} ${text}` : text });
  }
  const queries = new Map<string, string>();
  for await (const raw of jsonLines(queriesPath)) {
    const q = queryLine.parse(raw);
    queries.set(String(q._id), q.text);
  }
  const qrels: BeirDataset["qrels"] = {};
  for (const split of options.splits ?? ["train", "dev", "test"]) {
    const path = join(dir, "qrels", `${split}.tsv`);
    if (!existsSync(path)) continue;
    const map = new Map<string, Set<string>>();
    const lines = (await readFile(path, "utf8")).split(/\r?\n/);
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "" || (i === 0 && line.startsWith("query-id"))) continue;
      const [qid, did, score] = line.split("\t");
      if (!qid || !did) throw new Error(`${path}:${i + 1}: expected query-id<TAB>corpus-id<TAB>score`);
      if (Number(score ?? "1") <= 0) continue;
      if (!map.has(qid)) map.set(qid, new Set());
      map.get(qid)!.add(did);
    }
    qrels[split] = map;
  }
  if (!qrels.test) throw new Error(`${dir}/qrels/test.tsv not found: the benchmark reports on the test split`);
  return { name: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir, dir, documents, queries, qrels, corpusHash: await sha256File(corpusPath) };
}
