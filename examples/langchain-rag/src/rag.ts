/**
 * A LangChain RAG pipeline with deep memory added. What a LangChain app
 * already has: documents, embeddings, a vector store, a retriever, a prompt.
 * What deep memory adds: a trainer reading the same store, and a retriever
 * that applies the trained model to each query.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import {
  DeepMemoryError,
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  LocalDeepMemory,
  PseudoQueryGenerator,
  readModelFile,
  type Embedder,
} from "@zip/deep-memory";
import { DeepMemoryRetriever, LangChainEmbedder, LangChainVectorStoreAdapter } from "@zip/deep-memory-langchain";
import { chunkNotes, loadKnowledgeBase } from "@zip/example-knowledge-base";
import { EmbedderEmbeddings } from "./embedder-embeddings.js";

export interface RagOptions {
  /** Embeds documents and queries; the example uses the local all-MiniLM-L6-v2. */
  embedder: Embedder;
  /** Where the trained model is kept as a file between runs. */
  dataDir: string;
  log?: (line: string) => void;
}

export interface HitRates {
  "hit@1": number;
  "hit@3": number;
  "hit@5": number;
  "hit@10": number;
}

export interface RagReport {
  /** "trained" on the first run, "file" when the model came from the file a previous run wrote. */
  modelSource: "trained" | "file";
  modelFile: string;
  questions: number;
  plain: HitRates;
  withDeepMemory: HitRates;
  /** The prompt the chain built for one question, ready for any chat model. */
  samplePrompt: string;
}

const userId = "langchain-example-user";

export async function runRag(options: RagOptions): Promise<RagReport> {
  const log = options.log ?? (() => {});
  const notes = loadKnowledgeBase();
  const passages = chunkNotes(notes, 2);

  // 1. The LangChain app as it was: documents with ids, embeddings, a vector store.
  const embeddings = new EmbedderEmbeddings(options.embedder);
  const documents = passages.map((p) => new Document({ id: p.id, pageContent: p.text, metadata: { noteId: p.noteId, title: p.title } }));
  log(`Indexing ${documents.length} passages of ${notes.length} notes in LangChain's MemoryVectorStore (${embeddings.model})`);
  const vectorStore = await MemoryVectorStore.fromDocuments(documents, embeddings);

  // 2. Deep memory reads the same store and embeds exactly as the retriever will.
  const trainer = new DeepMemoryTrainer({
    vectorStore: new LangChainVectorStoreAdapter({ vectorStore }),
    embedder: new LangChainEmbedder({ embeddings, queriesAsDocuments: true }),
    store: new InMemoryTrainingStore(),
    generator: new PseudoQueryGenerator(),
    engine: new LocalDeepMemory(),
    // Measured on this knowledge base (see the demo): 8 LLM-free questions per passage beat plain search, 4 do not.
    options: { questionsPerChunk: 8, concurrency: 1 },
  });
  try {
    const modelFile = join(options.dataDir, "deep-memory-model.bin");
    const modelSource = await loadOrTrain(trainer, modelFile, log);
    const settings = await trainer.getSettings({ userId });
    if (settings.canEnable) await trainer.updateSettings({ userId, enabled: true });
    else log(`Deep memory stays off: ${settings.cannotEnableReason}`);

    // 3. The retrievers: LangChain's own, and the same store through deep memory.
    const plainRetriever = vectorStore.asRetriever({ k: 10 });
    const retriever = new DeepMemoryRetriever({ vectorStore, trainer, userId, k: 10 });
    const evaluation = notes.flatMap((note) => note.evalQuestions.map((question) => ({ question, noteId: note.id })));
    log(`Measuring on ${evaluation.length} hand-written questions never used for training (a hit: a passage of the right note in the top k)`);
    const plainRanks: number[] = [];
    const deepRanks: number[] = [];
    for (const { question, noteId } of evaluation) {
      plainRanks.push(rankOf(await plainRetriever.invoke(question), noteId));
      deepRanks.push(rankOf(await retriever.invoke(question), noteId));
    }
    const plain = hitRates(plainRanks);
    const withDeepMemory = hitRates(deepRanks);
    log(table(plain, withDeepMemory));

    // 4. A RAG chain as LangChain apps write it, with the deep-memory retriever in place of the old one.
    const prompt = ChatPromptTemplate.fromMessages([
      ["system", "Answer from the context only. Context:\n{context}"],
      ["human", "{question}"],
    ]);
    const formatDocs = (docs: DocumentInterface[]) => docs.slice(0, 3).map((d) => `[${d.metadata.noteId}] ${d.pageContent}`).join("\n");
    const chain = RunnableSequence.from([{ context: retriever.pipe(RunnableLambda.from(formatDocs)), question: new RunnablePassthrough() }, prompt]);
    const sample = evaluation[0]!.question;
    const promptValue = await chain.invoke(sample);
    // A message's content is text here; multimodal content (parts) would print as JSON.
    const samplePrompt = promptValue.toChatMessages().map((m) => `${m.getType()}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n");
    log(`The chain's prompt for "${sample}" (pipe it into any chat model, e.g. .pipe(new ChatOpenAI())):\n${indent(samplePrompt)}`);

    return { modelSource, modelFile, questions: evaluation.length, plain, withDeepMemory, samplePrompt };
  } finally {
    await trainer.close();
  }
}

/** Imports the model file a previous run wrote; trains and writes it when there is none or it does not fit. */
async function loadOrTrain(trainer: DeepMemoryTrainer, modelFile: string, log: (line: string) => void): Promise<"trained" | "file"> {
  if (existsSync(modelFile)) {
    try {
      const file = await readFile(modelFile);
      const { header } = readModelFile(file);
      const imported = await trainer.importModel({ userId, file });
      log(`Loaded the model from ${modelFile} (trained ${header.createdAt} on ${header.embeddingModel}); no training needed`);
      if (imported.activated) return "file";
      log(`...but it cannot be enabled: ${imported.reason}`);
    } catch (error) {
      if (!DeepMemoryError.isInstance(error)) throw error;
      log(`Not using ${modelFile}: ${error.message} (${error.code}); training again`);
    }
  }
  log("Generating LLM-free training questions for every passage");
  const generation = await trainer.generate({ userId });
  const generated = await trainer.waitForJob({ userId, jobId: generation.jobId });
  if (generated.type === "failed") throw new Error(`generation failed: ${generated.error.message}`);
  if (generated.type === "cancelled") throw new Error(`generation was cancelled: ${generated.reason}`);
  log(`Training deep memory on ${generated.pairCount} questions`);
  const training = await trainer.train({ userId, runId: generation.runId });
  const trained = await trainer.waitForJob({ userId, jobId: training.jobId });
  if (trained.type === "failed") throw new Error(`training failed: ${trained.error.message}`);
  if (trained.type === "cancelled") throw new Error(`training was cancelled: ${trained.reason}`);
  const run = await trainer.getRunSummary({ userId, runId: generation.runId });
  log(`  ${run.metrics?.reason ?? ""}`);
  await mkdir(join(modelFile, ".."), { recursive: true });
  await writeFile(modelFile, await trainer.exportModel({ userId, runId: generation.runId }));
  log(`Saved the model to ${modelFile}: the next run loads it instead of training`);
  return "trained";
}

function rankOf(documents: DocumentInterface[], noteId: string): number {
  const index = documents.findIndex((d) => d.metadata.noteId === noteId);
  return index === -1 ? Infinity : index + 1;
}

function hitRates(ranks: number[]): HitRates {
  const rate = (k: number) => ranks.filter((r) => r <= k).length / ranks.length;
  return { "hit@1": rate(1), "hit@3": rate(3), "hit@5": rate(5), "hit@10": rate(10) };
}

function table(plain: HitRates, deep: HitRates): string {
  const keys = Object.keys(plain) as (keyof HitRates)[];
  const row = (label: string, rates: HitRates) => `${label.padEnd(26)}${keys.map((k) => rates[k].toFixed(3).padStart(8)).join("")}`;
  return indent([`${"".padEnd(26)}${keys.map((k) => k.padStart(8)).join("")}`, row("vectorStore.asRetriever", plain), row("DeepMemoryRetriever", deep)].join("\n"));
}

const indent = (text: string) => text.replace(/^/gm, "    ");
