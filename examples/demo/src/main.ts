/**
 * The offline demo: a small trading knowledge base, embedded locally, trained
 * with deep memory, and measured on hand-written questions it never trained on.
 *
 *   pnpm demo                      # local embeddings + LLM-free pseudo-questions
 *   OPENAI_API_KEY=... pnpm demo   # OpenAI embeddings + gpt-4o questions
 *
 * Runs, pairs and models persist in .deep-memory/demo (PGlite), so a second run
 * shows incremental generation: nothing new to generate, training reuses pairs.
 */
import {
  DeepMemoryTrainer,
  DeepMemoryError,
  InMemoryVectorStore,
  LocalDeepMemory,
  PseudoQueryGenerator,
  questionPromptPresets,
  type Embedder,
  type JobEvent,
  type QuestionGenerator,
} from "@zip/deep-memory";
import { OpenAIEmbedder, OpenAIQuestionGenerator } from "@zip/deep-memory/openai";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { chunkNotes, loadKnowledgeBase } from "@zip/example-knowledge-base";
import { ProgressLine } from "./progress.js";

/** PostgreSQL-backed stores key users by uuid (Supabase's auth.uid()); the demo has one user. */
const userId = "00000000-0000-4000-8000-00000000d3e0";
const dataDir = process.env.DEEP_MEMORY_DEMO_DIR ?? ".deep-memory/demo";

function providers(): { embedder: Embedder; generator: QuestionGenerator; label: string } {
  if (process.env.OPENAI_API_KEY) {
    return { embedder: new OpenAIEmbedder(), generator: new OpenAIQuestionGenerator({ ...questionPromptPresets.finance }), label: "OpenAI (text-embedding-3-small + gpt-4o)" };
  }
  const embedder = new LocalEmbedder({ allowRemoteModels: false });
  return { embedder, generator: new PseudoQueryGenerator(), label: `local ${embedder.model} + LLM-free pseudo-questions` };
}

async function main() {
  const step = (n: number, text: string) => console.log(`\n[${n}/6] ${text}`);
  let chosen: ReturnType<typeof providers>;
  try {
    chosen = providers();
  } catch (error) {
    if (DeepMemoryError.isInstance(error)) {
      console.error(`\nThe demo needs an embedding model and found none.\n\n${error.message}\n\nOr set OPENAI_API_KEY to use OpenAI instead.`);
      process.exit(1);
    }
    throw error;
  }
  const { embedder, generator, label } = chosen;
  const kb = loadKnowledgeBase();
  // Two-sentence passages, as a RAG backend chunks documents: the retrieval problem deep memory improves.
  const passages = chunkNotes(kb, 2);
  console.log(`Deep memory demo: ${kb.length} trading notes in ${passages.length} passages, ${label}`);

  step(1, `Embedding ${passages.length} passages`);
  const started = performance.now();
  const vectors = await embedder.embed(passages.map((p) => p.text), { kind: "document" });
  const vectorStore = new InMemoryVectorStore(passages.map((p, i) => ({ id: p.id, text: p.text, embedding: vectors[i]!, metadata: { noteId: p.noteId } })));
  const noteOf = new Map(passages.map((p) => [p.id, p.noteId]));
  console.log(`    ${vectors.length} vectors of ${vectors[0]?.length} dimensions in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const store = await PGliteTrainingStore.open({ dataDir });
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder,
    generator,
    engine: new LocalDeepMemory(),
    // Measured on this knowledge base: with 4 LLM-free questions per passage the model does not beat plain search; with 6-10 it does.
    options: { questionsPerChunk: process.env.OPENAI_API_KEY ? 5 : 8, concurrency: process.env.OPENAI_API_KEY ? 4 : 1, minPairs: 10 },
  });
  const bar = new ProgressLine();
  trainer.on("progress", (e: JobEvent) => {
    if (e.type !== "progress") return;
    const detail = e.phase === "training" && e.epoch !== undefined ? `epoch ${e.epoch}/${e.total}, validation recall@10 ${(100 * (e.validationRecallAt10 ?? 0)).toFixed(1)}%` : `${e.processed}/${e.total}`;
    bar.update(e.percent, `${e.phase} ${detail}`);
  });

  try {
    step(2, "Generating training questions");
    const settingsBefore = await trainer.getSettings({ userId });
    if (settingsBefore.lastTrainingRunId) {
      console.log(`    earlier training found in ${dataDir}; ${settingsBefore.newChunksSinceLastTraining} new passages since then`);
    }
    const gen = await trainer.generate({ userId });
    console.log(`    run ${gen.runId}${gen.resumed ? " (resumed)" : ""}: ${gen.totalChunks} passages to process, ${gen.existingChunks} already covered`);
    const genDone = await trainer.waitForJob({ userId, jobId: gen.jobId });
    bar.done();
    if (genDone.type === "failed") throw new Error(`generation failed: ${genDone.error.message}`);
    const review = await trainer.getRun({ userId, runId: gen.runId });
    console.log(`    ${review.statistics.pairCount} questions, ${review.statistics.pairsPerChunk.mean.toFixed(1)} per passage, ${review.statistics.duplicatesRemoved} duplicates removed`);

    step(3, "Reviewing a few generated questions");
    if (review.samplePairs.length === 0) console.log("    nothing new this run; training reuses the questions of earlier completed runs");
    for (const pair of review.samplePairs.slice(0, 4)) console.log(`    ${pair.chunkId.padEnd(22)} ${pair.question}`);

    step(4, "Training deep memory (held-out 10% of questions never used for fitting)");
    const train = await trainer.train({ userId, runId: gen.runId });
    const trainDone = await trainer.waitForJob({ userId, jobId: train.jobId });
    bar.done();
    if (trainDone.type === "failed") throw new Error(`training failed: ${trainDone.error.message}`);
    const run = (await trainer.getRun({ userId, runId: gen.runId })).run;
    const m = run.metrics!;
    console.log(`    trained on ${m.trainPairs} questions in ${(m.training.wallMs / 1000).toFixed(2)} s; held-out: ${m.reason}`);

    step(5, `Measuring on ${kb.reduce((s, d) => s + d.evalQuestions.length, 0)} hand-written questions (never seen in training)`);
    // A question is answered when any passage of its note is retrieved: the note is what a reader needs.
    const evalSet = kb.flatMap((d) => d.evalQuestions.map((q) => ({ q, noteId: d.id })));
    const ranks: { q: string; noteId: string; before: number; after: number; passage: string }[] = [];
    for (const e of evalSet) {
      const cmp = await trainer.compareSearch({ userId, query: e.q, k: 10 });
      const rank = (hits: { id: string }[]) => hits.findIndex((h) => noteOf.get(h.id) === e.noteId) + 1 || Infinity;
      const found = cmp.withDeepMemory.find((h) => noteOf.get(h.id) === e.noteId);
      ranks.push({ q: e.q, noteId: e.noteId, before: rank(cmp.withoutDeepMemory), after: rank(cmp.withDeepMemory), passage: found?.id ?? "" });
    }
    printHitRates(ranks);

    step(6, "Searches where deep memory moved the right note up");
    const settings = await trainer.getSettings({ userId });
    if (!settings.canEnable) {
      console.log(`    deep memory stays off: ${settings.cannotEnableReason}`);
    } else {
      await trainer.updateSettings({ userId, enabled: true });
      const better = ranks.filter((x) => x.after < x.before).sort((a, b) => Math.min(b.before, 11) - b.after - (Math.min(a.before, 11) - a.after));
      const worse = ranks.filter((x) => x.after > x.before).length;
      for (const x of better.slice(0, 4)) {
        console.log(`    "${x.q}"\n      ${x.noteId}: rank ${Number.isFinite(x.before) ? x.before : ">10"} -> ${x.after}`);
      }
      console.log(`    ${better.length} questions ranked their note higher, ${worse} lower, ${ranks.length - better.length - worse} unchanged. Deep memory is now enabled for the demo user.`);
    }
  } finally {
    await store.close();
  }
}

function printHitRates(ranks: { before: number; after: number }[]) {
  const ks = [1, 3, 5, 10];
  const rate = (key: "before" | "after", k: number) => ranks.filter((r) => r[key] <= k).length / ranks.length;
  const mrr = (key: "before" | "after") => ranks.reduce((s, r) => s + (Number.isFinite(r[key]) ? 1 / r[key] : 0), 0) / ranks.length;
  console.log(`    ${"".padEnd(20)}${ks.map((k) => `hit@${k}`.padStart(9)).join("")}${"MRR@10".padStart(9)}`);
  for (const [label, key] of [["plain search", "before"], ["with deep memory", "after"]] as const) {
    console.log(`    ${label.padEnd(20)}${ks.map((k) => rate(key, k).toFixed(3).padStart(9)).join("")}${mrr(key).toFixed(3).padStart(9)}`);
  }
}

main().catch((error) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
