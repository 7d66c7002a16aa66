import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Embedder } from "@zip/deep-memory";

/**
 * Embeddings cached on disk, keyed by embedder model, kind and the exact texts,
 * so a second benchmark run on the same data embeds nothing.
 */
export async function cachedEmbeddings(input: {
  cacheDir: string;
  label: string;
  embedder: Embedder;
  texts: readonly string[];
  kind: "query" | "document";
  /** Extra key material, e.g. the corpus file hash. */
  salt?: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<{ vectors: Float32Array[]; dims: number; fromCache: boolean; seconds: number }> {
  const hash = createHash("sha256").update(input.embedder.model).update(`\0${input.kind}\0${input.salt ?? ""}\0`);
  for (const t of input.texts) hash.update(t).update("\0");
  const key = `${input.label}-${hash.digest("hex").slice(0, 20)}`;
  const file = join(input.cacheDir, `${key}.f32`);
  const t0 = performance.now();
  if (existsSync(file)) {
    const bytes = await readFile(file);
    const dims = bytes.readUInt32LE(0);
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 4, bytes.byteOffset + bytes.byteLength));
    const vectors = Array.from({ length: input.texts.length }, (_, i) => all.subarray(i * dims, (i + 1) * dims));
    if (all.length === dims * input.texts.length) return { vectors, dims, fromCache: true, seconds: (performance.now() - t0) / 1000 };
  }
  const batch = input.batchSize ?? 256;
  const vectors: Float32Array[] = [];
  for (let i = 0; i < input.texts.length; i += batch) {
    vectors.push(...(await input.embedder.embed(input.texts.slice(i, i + batch), { kind: input.kind })));
    input.onProgress?.(vectors.length, input.texts.length);
  }
  const dims = vectors[0]?.length ?? 0;
  const out = Buffer.alloc(4 + vectors.length * dims * 4);
  out.writeUInt32LE(dims, 0);
  vectors.forEach((v, i) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(out, 4 + i * dims * 4));
  await mkdir(input.cacheDir, { recursive: true });
  await writeFile(`${file}.tmp`, out);
  await rename(`${file}.tmp`, file);
  return { vectors, dims, fromCache: false, seconds: (performance.now() - t0) / 1000 };
}
