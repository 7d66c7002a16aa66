// Embeds a BEIR corpus and its queries into the benchmark's disk cache and prints the plain-search baseline.
// Usage: tsx --conditions=@zip/source bench/src/warm-cache.ts <dataset-dir> [--model-dir <dir>]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { InMemoryVectorStore, retrievalMetrics } from "@zip/deep-memory";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir } from "./beir.js";
import { cachedEmbeddings } from "./vector-cache.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { "model-dir": { type: "string" }, "cache-dir": { type: "string", default: ".cache/bench" } } });
const data = await loadBeir(resolve(positionals[0]!));
const embedder = new LocalEmbedder({ ...(values["model-dir"] ? { modelDir: values["model-dir"] } : {}), allowRemoteModels: false });
const corpus = await cachedEmbeddings({ cacheDir: values["cache-dir"]!, label: `${data.name}-corpus`, embedder, texts: data.documents.map((d) => d.text), kind: "document", salt: data.corpusHash, onProgress: (d, t) => d % 1024 < 256 && console.error(`corpus ${d}/${t}`) });
console.error(`corpus: ${corpus.seconds.toFixed(1)} s, cached=${corpus.fromCache}`);
const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
const store = new InMemoryVectorStore(data.documents.map((d, i) => ({ id: d.id, text: "", embedding: corpus.vectors[i]! })));
const q = await embedder.embed(testIds.map((id) => data.queries.get(id)!), { kind: "query" });
const rankings = [];
for (const v of q) rankings.push((await store.search({ userId: "x", embedding: v, k: 100 })).map((h) => h.id));
console.log(retrievalMetrics(rankings, testIds.map((id) => data.qrels.test!.get(id)!)).metrics);
