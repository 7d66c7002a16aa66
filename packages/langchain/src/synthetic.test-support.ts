/**
 * A knowledge base where the right query transform is known: chunk "chunk-N"
 * embeds to a random unit vector v(N), and the question "What does chunk-N
 * say about aspect K?" to R·v(N) + noise for a hidden matrix R. Plain search
 * misses often; a trained deep memory learns to undo R. As LangChain
 * embeddings, so it can back any LangChain vector store.
 */
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import type { GenerateQuestionsInput, QuestionGenerator } from "@zip/deep-memory";
import { fnv1a, gaussian, mulberry32 } from "@zip/deep-memory/testing";

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const question = /^What does (chunk-\d+) say about aspect (\d+)\?$/;
const label = /^(chunk-\d+):/;

export const chunkText = (n: number) => `chunk-${String(n).padStart(4, "0")}: notes on strategy ${n} and the ticker T${n}.`;
export const questionAbout = (name: string, aspect: number) => `What does ${name} say about aspect ${aspect}?`;

export class SyntheticEmbeddings extends Embeddings {
  /** The name LangChainEmbedder picks up, as from OpenAIEmbeddings' `model` field. */
  readonly model = "synthetic-langchain-embeddings";
  calls = { documents: 0, queries: 0 };
  private readonly hidden: number[][];

  constructor(
    readonly dims = 24,
    private readonly seed = 5,
  ) {
    super({});
    const rand = mulberry32(seed);
    const mix = 0.85;
    this.hidden = Array.from({ length: dims }, (_, r) => Array.from({ length: dims }, (_, c) => (r === c ? 1 - mix : 0) + (mix * gaussian(rand)) / Math.sqrt(dims)));
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls.documents++;
    return texts.map((t) => this.chunkVector(label.exec(t)?.[1] ?? t));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.calls.queries++;
    const match = question.exec(text);
    if (!match) return this.chunkVector(`query:${text}`);
    const v = this.chunkVector(match[1]!);
    const rand = mulberry32(fnv1a(text) ^ this.seed);
    return unit(this.hidden.map((row) => row.reduce((s, w, c) => s + w * v[c]!, 0) + (0.15 * gaussian(rand)) / Math.sqrt(this.dims)));
  }

  private chunkVector(name: string): number[] {
    const rand = mulberry32(fnv1a(name) ^ this.seed);
    return unit(Array.from({ length: this.dims }, () => gaussian(rand)));
  }
}

/** Writes "What does chunk-N say about aspect 1..count?" for a chunk whose text starts with its name. */
export class AspectQuestions implements QuestionGenerator {
  readonly model = "scripted:aspects";
  async generate({ chunk, count }: GenerateQuestionsInput): Promise<string[]> {
    const name = label.exec(chunk.text)?.[1] ?? chunk.id;
    return Array.from({ length: count }, (_, k) => questionAbout(name, k + 1));
  }
}

/** Documents for chunks 0..n-1, with ids from `idFor` and an `owner` metadata field. */
export function syntheticDocuments(n: number, idFor: (i: number) => string = (i) => `doc-${i}`, owner = "user-a"): Document[] {
  return Array.from({ length: n }, (_, i) => new Document({ id: idFor(i), pageContent: chunkText(i), metadata: { owner, n: i } }));
}

/** The name a question refers to, for checking which document answers it. */
export const chunkName = (n: number) => `chunk-${String(n).padStart(4, "0")}`;
