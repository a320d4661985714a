// The export file (cache.export / cache.import): a magic and a version, then frames, each
// checksummed on its own so a damaged byte is caught before the entry it belongs to is used:
//
//   file   = MAGIC (8 bytes) version (u32) frame* ; the last frame is END
//   frame  = kind (u8) length (u32) payload[length] crc32(kind, length, payload) (u32)
//   HEADER = JSON {format, embedder, dimensions, exportedAt, scope?, tenant?}
//   ENTRY  = jsonLength (u32) JSON {scope, prompt, answer, metadata?, created, lastAccess,
//            expiresAt, hits} then the vector (dimensions x f32)
//   END    = JSON {entries, crc}: the entry count and the CRC-32 of every byte before END
//
// Integers are little-endian. A file is written and read frame by frame: neither side ever needs
// the whole cache in one buffer. Truncation (no END), a wrong count, a flipped bit anywhere and a
// file of another kind are all CORRUPT_EXPORT; a newer version is UNSUPPORTED_VERSION.
import type { ImportSource } from '../api.js';
import { concatBytes } from '../bytes.js';
import { SemcacheError } from '../errors.js';

/** PNG-style: a high byte and CR LF / SUB / LF catch text-mode mangling at the first bytes. */
export const MAGIC = Uint8Array.of(0x89, 0x53, 0x43, 0x58, 0x0d, 0x0a, 0x1a, 0x0a);  // \x89 S C X \r \n \x1a \n
export const EXPORT_VERSION = 1;
export const FRAME = { HEADER: 1, ENTRY: 2, END: 3 } as const;
/** Largest frame accepted: above maxAnswerBytes (8 MiB) + maxPromptChars + a 65536-d vector. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** One cache entry as it travels (the scope is its canonical key, as stored). */
export interface TransferEntry {
  scope: string;
  prompt: string;
  answer: string;
  metadata?: unknown;
  vector: Float32Array;
  created: number;
  lastAccess: number;
  expiresAt: number;
  hits: number;
}

/** What a file's vectors are: an import refuses another embedder or length. */
export interface TransferInfo {
  embedder: string;
  dimensions: number;
}

export interface ExportHeader extends TransferInfo {
  format: 'semcache-export';
  exportedAt: number;
  scope?: string;
  tenant?: string;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zip and PNG), continued from `crc` over `bytes`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const enc = new TextEncoder();
const corrupt = (m: string) => new SemcacheError('CORRUPT_EXPORT', `not a valid semcache export: ${m}`);

/** Writes frames, keeping the running CRC of everything written for END. */
export class ExportWriter {
  private crc = 0;
  private entries = 0;

  /** The magic, the version and the header frame. */
  start(header: ExportHeader): Uint8Array {
    const head = new Uint8Array(12);
    head.set(MAGIC);
    new DataView(head.buffer).setUint32(8, EXPORT_VERSION, true);
    return this.track(concatBytes([head, frame(FRAME.HEADER, enc.encode(JSON.stringify(header)))]));
  }

  entry(e: TransferEntry): Uint8Array {
    const { vector, ...rest } = e;
    const json = enc.encode(JSON.stringify(rest));
    const payload = new Uint8Array(4 + json.length + vector.byteLength);
    const dv = new DataView(payload.buffer);
    dv.setUint32(0, json.length, true);
    payload.set(json, 4);
    for (let i = 0; i < vector.length; i++) dv.setFloat32(4 + json.length + 4 * i, vector[i]!, true);
    this.entries++;
    return this.track(frame(FRAME.ENTRY, payload));
  }

  end(): Uint8Array {
    return frame(FRAME.END, enc.encode(JSON.stringify({ entries: this.entries, crc: this.crc })));
  }

  private track(b: Uint8Array): Uint8Array {
    this.crc = crc32(b, this.crc);
    return b;
  }
}

function frame(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length + 4);
  const dv = new DataView(out.buffer);
  out[0] = kind;
  dv.setUint32(1, payload.length, true);
  out.set(payload, 5);
  dv.setUint32(5 + payload.length, crc32(out.subarray(0, 5 + payload.length)), true);
  return out;
}

/** Bytes arriving in chunks of any size, read back in exact lengths. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private done = false;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Exactly n bytes, or undefined at a clean end of input (nothing buffered). */
  async take(n: number): Promise<Uint8Array | undefined> {
    while (this.size < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        this.chunks.push(r.value);
        this.size += r.value.length;
      }
    }
    if (this.size < n) {
      if (this.size === 0) return undefined;
      throw corrupt(`the file is truncated (${this.size} bytes where ${n} were expected)`);
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }

  async atEnd(): Promise<boolean> {
    if (this.size) return false;
    const more = await this.take(1);
    if (!more) return true;
    this.chunks.unshift(more);
    this.size += 1;
    return false;
  }

  close(): void {
    void this.it.return?.();
  }
}

function chunksOf(source: ImportSource): AsyncIterator<Uint8Array> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return (async function* () {
      yield bytes;
    })();
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return chunksOf(source.stream() as ReadableStream<Uint8Array>);
  if (source && typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      next: async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: toBytes(r.value) };
      },
      return: async () => {
        await reader.cancel().catch(() => {});
        return { done: true, value: undefined };
      },
    };
  }
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return { next: async () => {
      const r = await it.next();
      return r.done ? r : { done: false, value: toBytes(r.value) };
    }, return: async () => (await it.return?.()) ?? { done: true, value: undefined } };
  }
  throw new SemcacheError('INVALID_ARGUMENT', 'import needs a ReadableStream, an async iterable of bytes, a Blob, a Uint8Array or an ArrayBuffer');
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new SemcacheError('INVALID_ARGUMENT', `an import stream must yield bytes, got ${typeof v}`);
}

export type ExportItem = { header: ExportHeader } | { entry: TransferEntry } | { end: { entries: number } };

/**
 * Reads an export frame by frame: the header first, then each entry once its frame checked out,
 * then the end (after which the file must stop). Throws CORRUPT_EXPORT or UNSUPPORTED_VERSION
 * naming what is wrong.
 */
export async function* readExport(source: ImportSource): AsyncGenerator<ExportItem> {
  const q = new ByteQueue(chunksOf(source));
  try {
    const head = await q.take(12);
    if (!head || MAGIC.some((b, i) => head[i] !== b)) throw corrupt('it does not start with the semcache export magic');
    const version = new DataView(head.buffer, head.byteOffset).getUint32(8, true);
    if (version !== EXPORT_VERSION) {
      throw new SemcacheError('UNSUPPORTED_VERSION', `this export file has format version ${version}, this semcache reads version ${EXPORT_VERSION}`);
    }
    let crc = crc32(head);
    let dims = 0;
    let count = 0;
    for (let n = 0; ; n++) {
      const fh = await q.take(5);
      if (!fh) throw corrupt(`the file is truncated after ${count} entries (no end frame)`);
      const kind = fh[0]!;
      const len = new DataView(fh.buffer, fh.byteOffset).getUint32(1, true);
      if (len > MAX_FRAME_BYTES) throw corrupt(`frame ${n} claims ${len} bytes`);
      const body = await q.take(len + 4);
      if (!body) throw corrupt(`the file is truncated inside frame ${n}`);
      const payload = body.subarray(0, len);
      const want = new DataView(body.buffer, body.byteOffset).getUint32(len, true);
      if (crc32(payload, crc32(fh)) !== want) throw corrupt(`frame ${n} fails its checksum`);
      if ((n === 0) !== (kind === FRAME.HEADER)) throw corrupt(`frame ${n} is of kind ${kind} where ${n === 0 ? 'the header' : 'an entry or the end'} belongs`);
      if (kind === FRAME.END) {
        const end = jsonOf(payload, 'the end frame') as { entries?: unknown; crc?: unknown };
        if (end.entries !== count || end.crc !== crc) throw corrupt(`the end frame says ${String(end.entries)} entries, the file holds ${count} (or frames were dropped or reordered)`);
        if (!(await q.atEnd())) throw corrupt('bytes follow the end frame');
        yield { end: { entries: count } };
        return;
      }
      crc = crc32(body, crc32(fh, crc));
      if (kind === FRAME.HEADER) {
        const h = jsonOf(payload, 'the header') as ExportHeader;
        if (h.format !== 'semcache-export' || typeof h.embedder !== 'string' || !Number.isInteger(h.dimensions) || h.dimensions < 1 || h.dimensions > 65536) {
          throw corrupt('the header does not describe a semcache export');
        }
        dims = h.dimensions;
        yield { header: h };
      } else if (kind === FRAME.ENTRY) {
        yield { entry: entryOf(payload, dims, count) };
        count++;
      } else {
        throw corrupt(`frame ${n} is of unknown kind ${kind}`);
      }
    }
  } finally {
    q.close();
  }
}

function jsonOf(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt(`${what} is not valid JSON`);
  }
}

function entryOf(payload: Uint8Array, dims: number, n: number): TransferEntry {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const jl = payload.length >= 4 ? dv.getUint32(0, true) : -1;
  if (jl < 0 || 4 + jl + 4 * dims !== payload.length) throw corrupt(`entry ${n} is not ${dims}-dimensional`);
  const e = jsonOf(payload.subarray(4, 4 + jl), `entry ${n}`) as TransferEntry;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!e || typeof e.scope !== 'string' || typeof e.prompt !== 'string' || typeof e.answer !== 'string' || ![e.created, e.lastAccess, e.expiresAt, e.hits].every(num)) {
    throw corrupt(`entry ${n} lacks its scope, prompt, answer or timestamps`);
  }
  const vector = new Float32Array(dims);
  for (let i = 0; i < dims; i++) vector[i] = dv.getFloat32(4 + jl + 4 * i, true);
  return { ...e, vector };
}
