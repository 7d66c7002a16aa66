import { parseArgs } from "node:util";
import type { LocalDeepMemoryOptions } from "@zip/deep-memory";

/** The retrieval bench's command line (pnpm bench), parsed once: every mode and the report read it from here. */
export interface BenchOptions {
  datasetDir: string;
  out: string;
  modelDir?: string;
  cacheDir: string;
  seed: number;
  modes: Set<string>;
  pseudoStyle: "sentences" | "mixed";
  pseudoPerDoc: number;
  maxPairs: number;
  /** LocalDeepMemory options for every mode, e.g. '{"memoryProbe":1}'; the engine validates them. */
  engineOptions: LocalDeepMemoryOptions;
  devFraction: number;
  devSplit?: string;
  noSpeed: boolean;
  noScale: boolean;
  reference?: string;
  retrainMaxQuestions?: number;
}

/** The flags pnpm bench shares with pseudo-explore.ts, with the same defaults. */
export const sharedFlags = {
  "cache-dir": { type: "string", default: ".cache/bench" },
  seed: { type: "string", default: "42" },
  "pseudo-per-doc": { type: "string", default: "10" },
  "pseudo-style": { type: "string", default: "sentences" },
  "engine-options": { type: "string", default: "{}" },
  "max-pairs": { type: "string", default: "60000" },
  "dev-fraction": { type: "string", default: "0.2" },
} as const;

/** Reads the flags, or prints the usage line and exits with 2 when no data set is named. */
export function parseBenchArgs(args: string[] = process.argv.slice(2)): BenchOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...sharedFlags,
      out: { type: "string", default: "results" },
      "model-dir": { type: "string" },
      modes: { type: "string", default: "train,pseudo,sdk" },
      /** Measure on this split of the data set's own (e.g. "dev") instead of carving one from train: training uses every train query. */
      "dev-split": { type: "string" },
      "no-speed": { type: "boolean", default: false },
      /** Skips the 60,000-chunk hybrid latency check. */
      "no-scale": { type: "boolean", default: false },
      /** Python-measured alternatives for this data set; defaults to bench/reference/<name>.alternatives.json when present. */
      reference: { type: "string" },
      /** Train again on the validation questions too once they chose the fusion, up to this many questions (default: the trainer's). */
      "retrain-max-questions": { type: "string" },
    },
  });
  const datasetDir = positionals[0];
  if (!datasetDir) {
    console.error("usage: pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--modes train,pseudo,sdk]");
    process.exit(2);
  }
  return {
    datasetDir,
    out: values.out,
    ...(values["model-dir"] ? { modelDir: values["model-dir"] } : {}),
    cacheDir: values["cache-dir"],
    seed: Number(values.seed),
    modes: new Set(values.modes.split(",").map((m) => m.trim())),
    pseudoStyle: values["pseudo-style"] === "mixed" ? "mixed" : "sentences",
    pseudoPerDoc: Number(values["pseudo-per-doc"]),
    maxPairs: Number(values["max-pairs"]),
    engineOptions: JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions,
    devFraction: Number(values["dev-fraction"]),
    ...(values["dev-split"] ? { devSplit: values["dev-split"] } : {}),
    noSpeed: values["no-speed"],
    noScale: values["no-scale"],
    ...(values.reference !== undefined ? { reference: values.reference } : {}),
    ...(values["retrain-max-questions"] ? { retrainMaxQuestions: Number(values["retrain-max-questions"]) } : {}),
  };
}

export const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

export const fmt = (v: number | undefined) => (v === undefined ? "  -  " : v.toFixed(3));
