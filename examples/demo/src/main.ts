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
  OpenAIEmbedder,
  OpenAIQuestionGenerator,
  PseudoQueryGenerator,
  type Embedder,
  type JobEvent,
  type MetricTable,
  type QuestionGenerator,
} from "@zip/deep-memory";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadKnowledgeBase } from "@zip/example-knowledge-base";
import { ProgressLine } from "./progress.js";

/** PostgreSQL-backed stores key users by uuid (Supabase's auth.uid()); the demo has one user. */
const userId = "00000000-0000-4000-8000-00000000d3e0";
const dataDir = process.env.DEEP_MEMORY_DEMO_DIR ?? ".deep-memory/demo";

function providers(): { embedder: Embedder; generator: QuestionGenerator; label: string } {
  if (process.env.OPENAI_API_KEY) {
    return { embedder: new OpenAIEmbedder(), generator: new OpenAIQuestionGenerator(), label: "OpenAI (text-embedding-3-small + gpt-4o)" };
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
  console.log(`Deep memory demo: ${kb.length} trading notes, ${label}`);

  step(1, `Embedding ${kb.length} notes`);
  const started = performance.now();
  const vectors = await embedder.embed(kb.map((d) => `${d.title}. ${d.text}`), { kind: "document" });
  const vectorStore = new InMemoryVectorStore(kb.map((d, i) => ({ id: d.id, text: `${d.title}. ${d.text}`, embedding: vectors[i]!, metadata: { title: d.title } })));
  console.log(`    ${vectors.length} vectors of ${vectors[0]?.length} dimensions in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const store = await PGliteTrainingStore.open({ dataDir });
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder,
    generator,
    engine: new LocalDeepMemory(),
    options: { questionsPerChunk: 4, concurrency: process.env.OPENAI_API_KEY ? 4 : 1, minPairs: 10 },
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
      console.log(`    earlier training found in ${dataDir}; ${settingsBefore.newChunksSinceLastTraining} new notes since then`);
    }
    const gen = await trainer.generate({ userId });
    console.log(`    run ${gen.runId}${gen.resumed ? " (resumed)" : ""}: ${gen.totalChunks} notes to process, ${gen.existingChunks} already covered`);
    const genDone = await trainer.waitForJob({ userId, jobId: gen.jobId });
    bar.done();
    if (genDone.type === "failed") throw new Error(`generation failed: ${genDone.error.message}`);
    const review = await trainer.getRun({ userId, runId: gen.runId });
    console.log(`    ${review.statistics.pairCount} questions, ${review.statistics.pairsPerChunk.mean.toFixed(1)} per note, ${review.statistics.duplicatesRemoved} duplicates removed`);

    step(3, "Reviewing a few generated questions");
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
    const evalSet = kb.flatMap((d) => d.evalQuestions.map((q) => ({ q, id: d.id })));
    const result = await trainer.evaluate({
      userId,
      runId: gen.runId,
      queries: evalSet.map((e) => e.q),
      relevance: evalSet.map((e) => [[e.id, 1]]),
      topK: [1, 3, 5, 10],
    });
    printMetrics(result.withoutModel, result.withModel);

    step(6, "Searches where deep memory moved the right note up");
    const settings = await trainer.getSettings({ userId });
    if (!settings.canEnable) {
      console.log(`    deep memory stays off: ${settings.cannotEnableReason}`);
    } else {
      await trainer.updateSettings({ userId, enabled: true });
      const moves: { q: string; id: string; before: number; after: number; top: string }[] = [];
      for (const e of evalSet) {
        const cmp = await trainer.compareSearch({ userId, query: e.q, k: 10 });
        const rank = (hits: { id: string }[]) => hits.findIndex((h) => h.id === e.id) + 1 || 11;
        moves.push({ q: e.q, id: e.id, before: rank(cmp.withoutDeepMemory), after: rank(cmp.withDeepMemory), top: cmp.withDeepMemory[0]!.id });
      }
      const better = moves.filter((x) => x.after < x.before).sort((a, b) => b.before - b.after - (a.before - a.after));
      const worse = moves.filter((x) => x.after > x.before).length;
      for (const x of better.slice(0, 4)) {
        console.log(`    "${x.q}"\n      ${x.id}: rank ${x.before > 10 ? ">10" : x.before} -> ${x.after}`);
      }
      console.log(`    ${better.length} questions ranked their note higher, ${worse} lower, ${moves.length - better.length - worse} unchanged. Deep memory is now enabled for the demo user.`);
    }
  } finally {
    await store.close();
  }
}

function printMetrics(before: MetricTable, after: MetricTable) {
  const keys = ["recall@1", "recall@3", "recall@5", "recall@10", "ndcg@10", "mrr@10"];
  console.log(`    ${"".padEnd(22)}${keys.map((k) => k.padStart(10)).join("")}`);
  console.log(`    ${"plain search".padEnd(22)}${keys.map((k) => (before[k] ?? 0).toFixed(3).padStart(10)).join("")}`);
  console.log(`    ${"with deep memory".padEnd(22)}${keys.map((k) => (after[k] ?? 0).toFixed(3).padStart(10)).join("")}`);
}

main().catch((error) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
