/**
 * The LLM-free path's fusion, compared on a dev split of real questions
 * (never on test): trains LocalDeepMemory on the bench's pseudo-queries as
 * the trainer does (a 15% validation share carved, the fusion chosen on it),
 * then scores every candidate fusion with the model on the dev questions
 * (carved from the training queries, as `pnpm bench --dev-fraction`; with
 * --dev-fraction 1 every training query, which the pseudo path never sees,
 * plus the data set's own dev split if it has one), beside plain dense and
 * hybrid search. Test figures are printed for the record only.
 *
 *   tsx --conditions=@zip/source bench/src/pseudo-explore.ts <beir-dir> [--dev-fraction 0.2] [--seed 42]
 *       [--pseudo-style sentences|mixed] [--pseudo-per-doc 10] [--max-pairs 60000] [--engine-options '{}']
 *       [--quick] [--no-all] [--map-too]
 *
 * Embeddings come from the bench's cache (the same keys), filled when missing.
 */
import { parseArgs } from "node:util";
import { LocalDeepMemory, type Fusion, type LocalDeepMemoryOptions, type MetricTable } from "@zip/deep-memory";
import { deterministicSplit, normalizeQuestion } from "@zip/deep-memory/evaluation";
import { chooseFusion, describeFusion, fusionCandidates, isCopiedQuestion } from "@zip/deep-memory/retrieval";
import { openExplore, pseudoQueryVectors } from "./explore-data.js";
import { sharedFlags } from "./bench-options.js";
import { defaultHybridFusion, denseOnly, Legs, validationFraction } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...sharedFlags,
    /** Only the plain rows, the default fusion and the weighted sums 1/1 (no grid). */
    quick: { type: "boolean", default: false },
    /** Skip the second training (every pseudo-query, no validation held back). */
    "no-all": { type: "boolean", default: false },
    "map-too": { type: "boolean", default: false },
  },
});
const log = (m: string) => console.error(`[explore ${new Date().toISOString().slice(11, 19)}] ${m}`);
const seed = Number(values.seed);
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)}`;

async function main() {
  const { data, embedder, cacheDir, explore, devIds } = await openExplore(positionals[0]!, values);
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const dev = await Legs.open(store, querySet(devIds, devQrels));
  const test = await Legs.open(store, querySet(testIds, data.qrels.test!));

  const style = values["pseudo-style"] === "mixed" ? "mixed" : "sentences";
  const { made, emb } = await pseudoQueryVectors(data, embedder, cacheDir, { style, perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed }, log);
  log(`${made.pairs.length} pseudo-queries (${made.model})`);
  const docIndex = new Map(data.documents.map((d, i) => [d.id, i]));
  const questions = made.pairs.map((p, i) => ({ text: p.question, vector: emb.vectors[i]!, positives: [docIndex.get(p.chunkId)!], chunkId: p.chunkId }));
  const { train, heldOut: validation } = deterministicSplit(questions, (q) => normalizeQuestion(q.text), validationFraction, seed + 1);
  const engine = new LocalDeepMemory(JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions);
  const text = new Map(data.documents.map((d) => [d.id, d.text]));
  const copied = validation.filter((q) => isCopiedQuestion(q.text, [text.get(q.chunkId)!])).length;
  // As the trainer: mostly copied questions teach the memory alone (--map-too trains the map on them as well).
  const hint = copied >= 0.5 * validation.length && !values["map-too"] ? { copiedQuestions: true } : {};
  const start = performance.now();
  const model = await engine.train({
    dimensions: corpus.dims,
    queries: train.map((q) => q.vector),
    positives: train.map((q) => q.positives),
    corpus: corpus.vectors,
    validation: { queries: validation.map((q) => q.vector), positives: validation.map((q) => q.positives) },
    seed,
    ...hint,
  });
  const transform = engine.load(model);
  log(`trained in ${((performance.now() - start) / 1000).toFixed(1)} s: ${model.report.epochs} epochs (best ${model.report.bestEpoch}), memory ${JSON.stringify(model.report.questionMemory ?? null)}`);

  const val = await Legs.open(store, { texts: validation.map((q) => q.text), vectors: validation.map((q) => q.vector), relevant: validation.map((q) => new Set([q.chunkId])) });
  const choice = await chooseFusion({ dense: await val.denseFor(transform), lexical: val.lexical, relevant: val.queries.relevant });
  log(`validation: ${validation.length} pseudo-queries, ${copied} copied; chose ${describeFusion(choice.fusion)}`);

  // The other way: no validation held back by the caller (the engine carves its own split and remembers it).
  const startAll = performance.now();
  const modelAll = values["no-all"] ? model : await engine.train({
    dimensions: corpus.dims,
    queries: questions.map((q) => q.vector),
    positives: questions.map((q) => q.positives),
    corpus: corpus.vectors,
    seed,
    ...hint,
  });
  const transformAll = engine.load(modelAll);
  log(`trained on all in ${((performance.now() - startAll) / 1000).toFixed(1)} s: ${modelAll.report.epochs} epochs (best ${modelAll.report.bestEpoch}), memory ${JSON.stringify(modelAll.report.questionMemory ?? null)}`);

  const grid = values.quick
    ? fusionCandidates().filter((f) => f.method === "weighted" && f.weights.dense === 1 && f.depth === 100)
    : fusionCandidates().slice(2);
  const rows: { name: string; fusion: Fusion; model: boolean | "all" }[] = [
    { name: "plain dense", fusion: denseOnly, model: false },
    { name: "plain hybrid (RRF k=60)", fusion: defaultHybridFusion, model: false },
    ...grid.map((fusion) => ({ name: `plain + ${describeFusion(fusion)}`, fusion, model: false })),
    { name: "model dense", fusion: denseOnly, model: true },
    { name: "model + default RRF k=60", fusion: defaultHybridFusion, model: true },
    { name: "model + chosen on pseudo validation", fusion: choice.fusion, model: true },
    ...grid.map((fusion) => ({ name: `model + ${describeFusion(fusion)}`, fusion, model: true })),
    ...(values["no-all"]
      ? []
      : [
          { name: "all-model dense", fusion: denseOnly, model: "all" as const },
          { name: "all-model + default RRF k=60", fusion: defaultHybridFusion, model: "all" as const },
          ...grid.map((fusion) => ({ name: `all-model + ${describeFusion(fusion)}`, fusion, model: "all" as const })),
        ]),
  ];
  console.log(`\n${data.name}: ${devIds.length} dev questions, ${testIds.length} test; recall@10 / nDCG@10 (pseudo validation | dev | test, test for the record only)`);
  for (const row of rows) {
    const t = row.model === "all" ? transformAll : row.model ? transform : null;
    console.log(`${row.name.padEnd(70)} | ${fmt(await val.metrics(t, row.fusion))} | ${fmt(await dev.metrics(t, row.fusion))} | ${fmt(await test.metrics(t, row.fusion))}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
