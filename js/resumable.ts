// Resumable downloads of large files in browsers (GPT-2 weights: ~500 MB for the 124M model).
// The bytes are stored in the origin private file system (OPFS) as they arrive, in parts of at
// most PART_BYTES, each part one file written whole, so a download that stops (network drop,
// tab closed, cancel) leaves a stored prefix. The next attempt asks only for the rest
// (`Range: bytes=N-` with `If-Range`, so a file changed on the server comes back whole with
// 200 and the download restarts from 0). A finished download is read back from OPFS with no
// request. Bytes go straight into the caller's sink (wasm memory): the file is never held twice.
//
// Layout: semcache-downloads/<sha-256 of the URL>/{meta.json, p<offset>...}; meta.json holds the
// validators (ETag, Last-Modified) and the total size the parts belong to.
import { SemcacheError, abortError } from './errors.js';

/** Memory a download is written into (re-read on every write: wasm memory may grow meanwhile). */
export interface ByteSink {
  set(chunk: Uint8Array, offset: number): void;
  bytes(): Uint8Array;
}

/** What fetchResumable takes of net.ts's FetchBytesOptions (see there). */
export interface ResumableOptions {
  onProgress?: (p: { url: string; loaded: number; total: number }) => void;
  signal?: AbortSignal;
  alloc?: (size: number) => ByteSink;
}

const ROOT = 'semcache-downloads';
/** Most bytes a stop can lose (a tab closed mid-part); also the extra memory of one part's write. */
export const PART_BYTES = 8 << 20;

interface Meta {
  v: 1;
  url: string;
  total: number;
  /** What If-Range sends: a strong ETag, else Last-Modified. */
  validator: string;
}

interface Part {
  start: number;
  size: number;
  handle: FileSystemFileHandle;
}

/** True where downloads can be stored and resumed: a secure browser context with OPFS. */
export function canResume(): boolean {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return typeof nav?.storage?.getDirectory === 'function' && typeof crypto?.subtle?.digest === 'function';
}

async function entryDir(url: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(url)));
  const name = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create });
  return root.getDirectoryHandle(name, { create });
}

/** Deletes what is stored for `url` (finished or not); true when there was something. */
export async function forgetDownload(url: string): Promise<boolean> {
  if (!canResume()) return false;
  try {
    const hash = (await entryDir(url, false)).name;
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT);
    await root.removeEntry(hash, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** Bytes of `url` stored so far and the total they belong to (undefined: nothing stored). */
export async function inspectDownload(url: string): Promise<{ stored: number; total: number } | undefined> {
  if (!canResume()) return undefined;
  try {
    const s = await readState(await entryDir(url, false));
    return s.meta ? { stored: s.stored, total: s.meta.total } : undefined;
  } catch {
    return undefined;
  }
}

/** meta.json and the parts that continue each other from offset 0 (anything else is deleted). */
async function readState(dir: FileSystemDirectoryHandle): Promise<{ meta?: Meta; parts: Part[]; stored: number }> {
  let meta: Meta | undefined;
  try {
    const m = JSON.parse(await (await (await dir.getFileHandle('meta.json')).getFile()).text()) as Meta;
    if (m.v === 1 && Number.isSafeInteger(m.total) && typeof m.validator === 'string') meta = m;
  } catch {
    meta = undefined;
  }
  const all: Part[] = [];
  for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries())
    if (/^p\d+$/.test(name) && handle.kind === 'file')
      all.push({ start: Number(name.slice(1)), size: (await (handle as FileSystemFileHandle).getFile()).size, handle: handle as FileSystemFileHandle });
  all.sort((a, b) => a.start - b.start);
  const parts: Part[] = [];
  let stored = 0;
  for (const p of all) {
    if (meta && p.start === stored && p.size > 0 && stored + p.size <= meta.total) {
      parts.push(p);
      stored += p.size;
    } else {
      await dir.removeEntry(p.handle.name).catch(() => {});
    }
  }
  return { meta, parts, stored };
}

async function clearParts(dir: FileSystemDirectoryHandle, parts: Part[]): Promise<void> {
  for (const p of parts) await dir.removeEntry(p.handle.name).catch(() => {});
}

/** One whole file: createWritable commits on close (a part is there whole or not at all). */
async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const fh = await dir.getFileHandle(name, { create: true });
  if (typeof fh.createWritable === 'function') {
    const w = await fh.createWritable();
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
    return;
  }
  // Safari's workers have only sync handles: a crash mid-write leaves a shorter part, still a
  // correct prefix of its range, which readState accepts as such.
  const h = await (fh as unknown as { createSyncAccessHandle(): Promise<FileSystemSyncAccessHandle> }).createSyncAccessHandle();
  try {
    h.truncate(0);
    h.write(bytes, { at: 0 });
    h.flush();
  } finally {
    h.close();
  }
}

function fail(url: string, message: string, cause?: unknown): SemcacheError {
  return new SemcacheError('FETCH_FAILED', `${url}: ${message}`, cause === undefined ? undefined : { cause });
}

/** The validator If-Range may carry: a strong ETag, else Last-Modified, else none (no resuming). */
function validatorOf(res: Response): string | null {
  const etag = res.headers.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers.get('last-modified');
}

/**
 * Downloads `url` (an absolute http(s) URL) with its bytes stored in OPFS, resuming a stored
 * prefix, or returns the stored file when it is complete. Only for canResume() contexts.
 */
export async function fetchResumable(url: string, options: ResumableOptions = {}): Promise<Uint8Array> {
  const dir = await entryDir(url, true);
  let state = await readState(dir);
  const { meta } = state;
  const progress = (loaded: number, total: number) => options.onProgress?.({ url, loaded, total });
  if (meta && meta.url === url && state.stored === meta.total) {
    const sink = destination(meta.total, options.alloc);
    await readParts(state.parts, sink, options.signal, (n) => progress(n, meta.total));
    return sink.bytes();
  }
  const resumeFrom = meta && meta.url === url && state.stored > 0 ? state.stored : 0;
  // 'no-store': the bytes are kept here, not a second time in the browser's HTTP cache, whose own
  // handling of a partly cached entry would also rewrite the Range asked for
  let res = await request(url, resumeFrom ? { range: `bytes=${resumeFrom}-`, 'if-range': meta!.validator } : {}, options.signal, 'no-store');
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  const resumed = res.status === 206 && !!m && resumeFrom > 0 && Number(m[1]) === resumeFrom && Number(m[3]) === meta!.total && Number(m[2]) === meta!.total - 1;
  if ((res.status === 206 && !resumed) || (res.status === 416 && resumeFrom > 0)) {
    // not the rest of the file we have the start of (or a Content-Range CORS hides), or a range
    // past the end of a file that shrank: start over
    await res.body?.cancel().catch(() => {});
    res = await request(url, {}, options.signal, 'no-store');
  }
  if (!res.ok || (res.status === 206 && !resumed)) {
    await res.body?.cancel().catch(() => {});
    throw fail(url, `HTTP ${res.status}${res.status === 404 ? ' (not found: check the URL)' : ''}`);
  }
  let from = 0;
  let total: number;
  let storing = true;
  if (resumed) {
    from = resumeFrom;
    total = meta!.total;
  } else {
    // 200: a first download, a server that ignores Range, or a file changed since (If-Range)
    const length = res.headers.get('content-length');
    if (length === null || !/^\d+$/.test(length)) throw fail(url, 'the server sent no Content-Length (needed to store a download and resume it)');
    total = Number(length);
    await clearParts(dir, state.parts);
    state = { parts: [], stored: 0 };
    const validator = validatorOf(res);
    // without a validator a stored prefix could not be matched to the file later: do not store
    storing = validator !== null && (await writeFile(dir, 'meta.json', new TextEncoder().encode(JSON.stringify({ v: 1, url, total, validator } satisfies Meta))).then(() => true, () => false));
  }
  const sink = destination(total, options.alloc);
  if (from) await readParts(state.parts, sink, options.signal, (n) => progress(n, total));
  let loaded = from;
  let saved = from;
  const save = async (upTo: number) => {
    while (storing && saved < upTo) {
      const end = Math.min(upTo, (Math.floor(saved / PART_BYTES) + 1) * PART_BYTES);
      // a copy: the sink may be wasm memory, which an allocation elsewhere could detach meanwhile
      const ok = await writeFile(dir, `p${saved}`, sink.bytes().slice(saved, end)).then(() => true, () => false);
      if (!ok) storing = false;  // a full disk: the download goes on without storing
      else saved = end;
    }
  };
  progress(loaded, total);
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const chunk = await readChunk(reader, options.signal, () => `${url}: the download broke off after ${loaded} of ${total} bytes${storing ? ' (kept: loading again resumes from there)' : ''}`);
      if (chunk.done) break;
      const c = chunk.value;
      if (loaded + c.length > total) throw fail(url, `the server sent more than the ${total} bytes it announced`);
      sink.set(c, loaded);
      loaded += c.length;
      progress(loaded, total);
      const boundary = Math.floor(loaded / PART_BYTES) * PART_BYTES;  // parts end on multiples of PART_BYTES
      if (boundary > saved) await save(boundary);
    }
    if (loaded !== total) throw fail(url, `truncated: got ${loaded} of ${total} bytes${storing ? ' (kept: loading again resumes from there)' : ''}`);
  } catch (e) {
    await reader.cancel().catch(() => {});
    if (loaded <= total) await save(loaded);  // keep what arrived before the stop
    throw e;
  }
  await save(total);
  return sink.bytes();
}

/** The body's next chunk; a failure is ABORTED (the caller's signal) or FETCH_FAILED saying where. */
export async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal: AbortSignal | undefined,
  where: () => string,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw new SemcacheError('FETCH_FAILED', `${where()}: ${(e as Error).message}`, { cause: e });
  }
}

/** fetch() with its failures as FETCH_FAILED (or ABORTED). */
export async function request(url: string, headers: Record<string, string>, signal?: AbortSignal, cache?: RequestCache): Promise<Response> {
  try {
    return await fetch(url, { headers, signal, cache });
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    // fetch() says only "Failed to fetch" for both: the browser's console names the cause
    const hint = typeof document !== 'undefined' || typeof importScripts === 'function' ? " (a network error, or a server that does not allow this page's origin: CORS)" : '';
    throw fail(url, `could not fetch${hint}: ${(e as Error).message}`, e);
  }
}

function destination(total: number, alloc?: (size: number) => ByteSink): ByteSink {
  if (alloc) return alloc(total);
  const buf = new Uint8Array(total);
  return { set: (c, at) => buf.set(c, at), bytes: () => buf };
}

async function readParts(parts: Part[], sink: ByteSink, signal: AbortSignal | undefined, progress: (loaded: number) => void): Promise<void> {
  for (const p of parts) {
    if (signal?.aborted) throw abortError(signal);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await (await p.handle.getFile()).arrayBuffer());
    } catch (e) {
      // e.g. deleted by another tab meanwhile: the next load sees the gap and downloads from it
      throw new SemcacheError('FETCH_FAILED', `a stored part of a download (${p.handle.name}) could not be read: ${(e as Error).message}`, { cause: e });
    }
    if (bytes.length !== p.size) throw new SemcacheError('FETCH_FAILED', `a stored part of a download changed size while being read (${p.handle.name})`);
    sink.set(bytes, p.start);
    progress(p.start + p.size);
  }
}
