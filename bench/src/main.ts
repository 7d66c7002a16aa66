/**
 * pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--seed N]
 *            [--modes train,pseudo,sdk] [--pseudo-per-doc N] [--pseudo-style sentences|mixed] [--max-pairs N]
 *            [--engine-options '{"memoryProbe":1}'] [--no-speed] [--no-scale] [--reference <file>]
 *
 * Embeds the corpus (cached on disk), measures dense, BM25 and hybrid search
 * on the test split, then trains deep memory three ways and measures it again,
 * dense-only and fused with BM25 as the trainer would search:
 *   (a) train   : the data set's own training queries (a dev split carved out of them);
 *   (b) pseudo  : LLM-free pseudo-queries from the corpus only, no human query seen;
 *   (c) sdk     : the SDK's own generate -> train path with the offline generator.
 * Prints a table and writes every figure to one JSON file.
 */
import { engineSpeed, referenceSpeed, type EngineSpeed } from "./engine-speed.js";
import { log, parseBenchArgs } from "./bench-options.js";
import { runModes } from "./bench-modes.js";
import { benchReport, printBenchReport, writeBenchReport } from "./bench-report.js";
import { prepareBench } from "./bench-setup.js";
import { loadReference } from "./report.js";
import { scaleLatency, type ScaleLatency } from "./scale-latency.js";

const options = parseBenchArgs();

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
sampler.unref();

async function main() {
  const t0 = performance.now();
  // This machine's speed now and at the end: timings compare across machines (or moments) only through it.
  const referenceAtStart = referenceSpeed();
  const setup = await prepareBench(options);
  const modes = await runModes(setup);

  const { data, testSet, corpusEmb } = setup;
  const scale: ScaleLatency | null = options.noScale ? null : await scaleLatency({ data, testSet, dims: corpusEmb.dims, seed: options.seed, log });
  const speed: EngineSpeed[] = options.noSpeed ? [] : await engineSpeed({ seed: options.seed, log });
  const referenceRows = await loadReference(options.reference, data, log);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);

  const report = benchReport(setup, modes, {
    scale,
    speed,
    referenceRows,
    referenceAtStart,
    referenceAtEnd: referenceSpeed(),
    totalSeconds: (performance.now() - t0) / 1000,
    peakRss,
  });
  printBenchReport(setup, report);
  await writeBenchReport(options.out, report);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
