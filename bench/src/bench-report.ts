import { arch, cpus, freemem, platform, release, totalmem } from "node:os";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LocalDeepMemory, type Fusion } from "@zip/deep-memory";
import type { ModesOutcome } from "./bench-modes.js";
import type { BenchSetup } from "./bench-setup.js";
import { printSpeed } from "./bench-helpers.js";
import type { EngineSpeed } from "./engine-speed.js";
import { printRetrievalTable, type ReferenceRow, type Row } from "./report.js";
import { defaultHybridFusion } from "./retrieval-eval.js";
import type { ScaleLatency } from "./scale-latency.js";

/** What the run measured besides the modes: the optional checks and this machine's figures. */
export interface RunFigures {
  scale: ScaleLatency | null;
  speed: EngineSpeed[];
  referenceRows: { file: string; rows: ReferenceRow[] } | null;
  referenceAtStart: number[];
  referenceAtEnd: number[];
  totalSeconds: number;
  peakRss: number;
}

/** The JSON written per run; its keys are documented in docs/benchmarks.md. */
export function benchReport(setup: BenchSetup, modes: ModesOutcome, run: RunFigures) {
  const { options, data, corpusEmb, split, plainLatency } = setup;
  return {
    createdAt: new Date().toISOString(),
    dataset: {
      name: data.name,
      dir: data.dir,
      documents: data.documents.length,
      corpusSha256: data.corpusHash,
      queries: { test: setup.testIds.length, train: split.train.length, dev: split.heldOut.length },
    },
    model: { embedder: setup.embedder.model, dimensions: corpusEmb.dims, ...engineDescription(setup) },
    seed: options.seed,
    pseudoQueries: { style: options.pseudoStyle, perDocument: options.pseudoPerDoc, maxPairs: options.maxPairs },
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
      freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
      platform: `${platform()} ${release()} ${arch()}`,
      node: process.version,
      referenceDotMultiplyAddsPerNs: { atStart: run.referenceAtStart, atEnd: run.referenceAtEnd },
    },
    baseline: { test: setup.baselineTest, ...(setup.baselineDev ? { dev: setup.baselineDev } : {}) },
    baselines: { bm25: { test: setup.bm25Test }, hybrid: { test: setup.hybridTest, fusion: defaultHybridFusion } },
    modes: modes.results,
    reference: run.referenceRows ? { file: run.referenceRows.file, rows: run.referenceRows.rows } : null,
    timings: {
      corpusEmbeddingSeconds: corpusEmb.fromCache ? null : corpusEmb.seconds,
      bm25IndexSeconds: setup.bm25IndexSeconds,
      searchMillisPerQuery: plainLatency.dense,
      latencyMsPerQuery: plainLatency,
      scale: run.scale,
      applyMicrosPerQuery: modes.applyTimes,
      totalSeconds: run.totalSeconds,
      peakRssMiB: Math.round(run.peakRss / 2 ** 20),
    },
    engineSpeed: run.speed,
    realPairsSpeed: modes.realPairsSpeed,
  };
}

export type BenchReport = ReturnType<typeof benchReport>;

/** Prints the test-split table and the timing lines. */
export function printBenchReport(setup: BenchSetup, report: BenchReport): void {
  const { data, plainLatency } = setup;
  const { scale } = report.timings;
  const { realPairsSpeed } = report;
  const rows: Row[] = [
    { label: "dense (no deep memory)", metrics: setup.baselineTest, trainingSeconds: null, latencyMs: plainLatency.dense },
    { label: "BM25", metrics: setup.bm25Test, trainingSeconds: null, latencyMs: plainLatency.bm25 },
    { label: "hybrid, RRF k=60 (no deep memory)", metrics: setup.hybridTest, trainingSeconds: null, latencyMs: plainLatency.hybrid },
  ];
  for (const [name, r] of Object.entries(report.modes)) {
    rows.push({ label: `${name}: deep memory dense-only (store without text search; ${r.trainPairs} pairs)`, metrics: r.test.dense, trainingSeconds: r.trainingSeconds, latencyMs: r.latencyMs.dense });
    const copiedNote = r.validation?.copied !== undefined ? `; ${r.validation.copied} validation questions copied from their chunks: fusion fixed for them` : "";
    rows.push({ label: `${name}: deep memory + hybrid (${shortFusion(r.fusion)}${copiedNote})`, metrics: r.test.hybrid, trainingSeconds: r.trainingSeconds, latencyMs: r.latencyMs.hybrid });
  }
  for (const ref of report.reference?.rows ?? []) rows.push({ label: `Python reference: ${ref.label}`, metrics: ref.test, trainingSeconds: ref.trainingSeconds ?? null, latencyMs: null });
  printRetrievalTable(`Test split, ${setup.testIds.length} queries (${data.name})`, rows);
  if (scale) {
    console.log(
      `\nHybrid search at ${scale.chunks} chunks (d=${scale.dimensions}, random vectors, ${scale.queries} queries, k=10, medians): dense ${scale.denseMs.toFixed(2)} ms; ` +
        `hybrid adds ${scale.addedMs.toFixed(2)} ms (dense leg to depth 100 +${scale.depthExtraMs.toFixed(2)}, BM25 top 100 ${scale.lexicalMs.toFixed(2)}, fusion ${scale.fuseMs.toFixed(3)}); end to end ${scale.hybridMs.toFixed(2)} ms; ` +
        `with the depth's extra timed alone (+${scale.selectionExtraMs.toFixed(3)} ms) hybrid adds ${scale.addedIsolatedMs.toFixed(2)} ms; ` +
        `the LLM-free path's neighbour boost (top 100) ${scale.neighborBoostMs.toFixed(2)} ms more`,
    );
  }
  if (report.engineSpeed.length) printSpeed(report.engineSpeed);
  if (realPairsSpeed) {
    console.log(`Real vectors: ${realPairsSpeed.pairs} ${data.name} pairs at d=${realPairsSpeed.dimensions} over ${realPairsSpeed.corpus} chunks trained in ${realPairsSpeed.trainSeconds.toFixed(2)} s (${realPairsSpeed.epochs} epochs)`);
  }
  console.log(`dense search ${plainLatency.dense.toFixed(2)} ms/query over ${data.documents.length} docs (BM25 index built in ${setup.bm25IndexSeconds.toFixed(2)} s); peak RSS ${report.timings.peakRssMiB} MiB`);
  const reference = report.machine.referenceDotMultiplyAddsPerNs;
  console.log(`machine reference (JS dot loop, multiply-adds per ns): ${reference.atStart.join(", ")} at start, ${reference.atEnd.join(", ")} at end`);
}

/** Writes the report as bench-<data set>-<time>.json under `out` and says where. */
export async function writeBenchReport(out: string, report: BenchReport): Promise<void> {
  await mkdir(out, { recursive: true });
  const file = join(out, `bench-${report.dataset.name}-${report.createdAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

function engineDescription(setup: BenchSetup): { engine: string; engineOptions: LocalDeepMemory["options"] } {
  const engine = new LocalDeepMemory(setup.options.engineOptions);
  return { engine: engine.name, engineOptions: engine.options };
}

function shortFusion(fusion: Fusion): string {
  if (fusion.method === "dense") return "dense won on validation";
  const w = `${fusion.weights.dense}/${fusion.weights.lexical}`;
  return fusion.method === "rrf" ? `RRF k=${fusion.k} w=${w} top ${fusion.depth}` : `${fusion.normalization} w=${w} top ${fusion.depth}`;
}
