import { ValidationError } from "./errors.js";
import type { QueryTransform } from "./contract.js";
import type { QuestionMemory } from "./question-memory.js";
import { memorySectionBytes, readMemorySection, writeMemorySection } from "./question-memory-format.js";
import { createSimdResidual, type SimdResidual } from "./wasm-simd.js";

/** Stored in EngineModel.format; bump the version when the byte layout changes. */
export const residualFormat = "residual-linear/v1";
/** The same factors followed by a question memory section. */
export const residualMemoryFormat = "residual-linear/v2";
/** The same with a gated question memory (a similarity threshold below which a query is not pulled). */
export const residualGatedMemoryFormat = "residual-linear/v3";

const magic = 0x4c52_4d44; // "DMRL" read as a little-endian uint32
const headerBytes = 16;

/**
 * q -> normalize(q + U (Vt q)): the identity plus a rank-r correction. With U
 * all zeros it returns the query unchanged, so an untrained model ranks
 * exactly like plain search. U is d x r, Vt is r x d, both row-major.
 * With a question memory the result is then pulled toward the chunks of the
 * training questions nearest to the raw query, and normalised again.
 */
export class ResidualTransform implements QueryTransform {
  readonly dimensions: number;
  readonly rank: number;
  readonly u: Float32Array;
  readonly vt: Float32Array;
  private readonly projected: Float64Array;
  private readonly simd: SimdResidual | null;
  readonly memory: QuestionMemory | null;

  /** `simd: false` forces the plain-JS path (for runtimes without WebAssembly SIMD, and tests). */
  constructor(
    dimensions: number,
    rank: number,
    u: Float32Array,
    vt: Float32Array,
    options: { simd?: boolean; memory?: QuestionMemory | null } = {},
  ) {
    if (u.length !== dimensions * rank || vt.length !== dimensions * rank) {
      throw new ValidationError(`Residual transform factors must hold ${dimensions} x ${rank} values each`);
    }
    this.dimensions = dimensions;
    this.rank = rank;
    this.u = u;
    this.vt = vt;
    this.projected = new Float64Array(rank);
    this.simd = options.simd === false ? null : createSimdResidual(dimensions, rank, u, vt);
    const memory = options.memory ?? null;
    if (memory && memory.dimensions !== dimensions) throw new ValidationError(`Question memory has ${memory.dimensions} dimensions, the transform ${dimensions}`);
    this.memory = memory && memory.parameters.weight > 0 && memory.keyCount > 0 ? memory : null;
  }

  /** The format string this transform's bytes are stored under. */
  get format(): string {
    return this.memory ? (this.memory.gated ? residualGatedMemoryFormat : residualMemoryFormat) : residualFormat;
  }

  /** Header layout version: 1 factors only, 2 with a question memory, 3 with a gated one. */
  private get layoutVersion(): number {
    return this.memory ? (this.memory.gated ? 3 : 2) : 1;
  }

  apply(query: Float32Array): Float32Array {
    const d = this.dimensions;
    if (query.length !== d) {
      throw new ValidationError(`Query has ${query.length} dimensions; this model expects ${d}`, [
        { path: "query", message: `expected length ${d}` },
      ]);
    }
    const out = new Float32Array(d);
    if (this.simd) {
      this.simd.residual(query, out);
      for (let i = 0; i < d; i++) out[i] = query[i]! + out[i]!;
    } else {
      this.residualInJs(query, out);
    }
    normalizeInPlace(out);
    if (this.memory) {
      this.memory.pull(query, out);
      normalizeInPlace(out);
    }
    return out;
  }

  /** out = q + U (Vt q) with float64 accumulation. */
  private residualInJs(query: Float32Array, out: Float32Array): void {
    const d = this.dimensions;
    const r = this.rank;
    const { u, vt, projected: z } = this;
    for (let k = 0; k < r; k++) {
      const o = k * d;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 1 < d; j += 2) {
        s0 += vt[o + j]! * query[j]!;
        s1 += vt[o + j + 1]! * query[j + 1]!;
      }
      if (j < d) s0 += vt[o + j]! * query[j]!;
      z[k] = s0 + s1;
    }
    for (let i = 0; i < d; i++) {
      const o = i * r;
      let s = query[i]!;
      for (let k = 0; k < r; k++) s += u[o + k]! * z[k]!;
      out[i] = s;
    }
  }

  /**
   * Header (magic, layout version, dimensions, rank) then U and Vt as
   * little-endian float32; layout 2 then has the question memory section.
   */
  toBytes(): Uint8Array {
    const d = this.dimensions;
    const r = this.rank;
    const factorBytes = headerBytes + 8 * d * r;
    const bytes = new Uint8Array(factorBytes + (this.memory ? memorySectionBytes(this.memory) : 0));
    const view = new DataView(bytes.buffer);
    view.setUint32(0, magic, true);
    view.setUint16(4, this.layoutVersion, true);
    view.setUint32(8, d, true);
    view.setUint32(12, r, true);
    let offset = headerBytes;
    for (const factor of [this.u, this.vt]) {
      for (let i = 0; i < factor.length; i++, offset += 4) view.setFloat32(offset, factor[i]!, true);
    }
    if (this.memory) writeMemorySection(this.memory, view, offset);
    return bytes;
  }

  static fromBytes(model: { format: string; dimensions: number; weights: Uint8Array }, options: { simd?: boolean } = {}): ResidualTransform {
    const fail = (message: string, path = "weights"): never => {
      throw new ValidationError(`Cannot load deep memory model: ${message}`, [{ path, message }]);
    };
    const formats = [residualFormat, residualMemoryFormat, residualGatedMemoryFormat];
    const layoutVersion = formats.indexOf(model.format) + 1;
    if (layoutVersion === 0) fail(`format "${model.format}" is not one of ${formats.map((f) => `"${f}"`).join(", ")}`, "format");
    if (!Number.isInteger(model.dimensions) || model.dimensions <= 0) fail("dimensions must be a positive integer", "dimensions");
    const { weights } = model;
    if (!(weights instanceof Uint8Array) || weights.byteLength < headerBytes) fail("weights are shorter than the header");
    const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
    if (view.getUint32(0, true) !== magic) fail("weights do not start with the residual-linear header");
    const version = view.getUint16(4, true);
    if (version !== layoutVersion) fail(`weights layout version ${version} is not supported (expected ${layoutVersion})`);
    const d = view.getUint32(8, true);
    const r = view.getUint32(12, true);
    if (d !== model.dimensions) fail(`weights are for ${d} dimensions, the model says ${model.dimensions}`, "dimensions");
    if (r < 1 || r > d) fail(`rank ${r} is outside 1..${d}`);
    const expected = headerBytes + 8 * d * r;
    if (layoutVersion === 1 ? weights.byteLength !== expected : weights.byteLength < expected) {
      fail(`expected ${expected} bytes for ${d} x ${r} factors, got ${weights.byteLength}`);
    }
    const u = new Float32Array(d * r);
    const vt = new Float32Array(d * r);
    let offset = headerBytes;
    for (const factor of [u, vt]) {
      for (let i = 0; i < factor.length; i++, offset += 4) {
        const value = view.getFloat32(offset, true);
        if (!Number.isFinite(value)) fail("weights contain a non-finite value");
        factor[i] = value;
      }
    }
    let memory: QuestionMemory | null = null;
    if (layoutVersion >= 2) {
      const read = readMemorySection(view, offset, d, layoutVersion === 3);
      if (read.end !== weights.byteLength) fail(`${weights.byteLength - read.end} bytes follow the question memory`);
      memory = read.memory;
    }
    return new ResidualTransform(d, r, u, vt, { ...options, memory });
  }
}

/**
 * Scales to unit length. Already unit length (within float32 precision) is
 * left untouched, so an untrained model returns the query bit for bit and
 * ranks exactly like it.
 */
function normalizeInPlace(out: Float32Array): void {
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i]! * out[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0 && Math.abs(norm - 1) > 1e-6) for (let i = 0; i < out.length; i++) out[i]! /= norm;
}
