// Fetching model files: progress, abort, local files in Node, and a cache of downloaded bytes
// (a directory in Node, the Cache API in browsers) so a model is downloaded once.
import { SemcacheError, abortError } from './errors.js';
import { platform } from './platform.js';
import { canResume, fetchResumable, readChunk, request, type ByteSink } from './resumable.js';

export type { ByteSink } from './resumable.js';

export interface FetchProgress {
  url: string;
  loaded: number;
  /** From Content-Length; null when the server sends none. */
  total: number | null;
}

export interface FetchBytesOptions {
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  /** Keep downloaded bytes (default true). */
  cache?: boolean;
  /**
   * Where a download of known size (Content-Length) is written instead of a new buffer, e.g.
   * straight into wasm memory so a 500 MB checkpoint is never held twice. The result is then
   * `sink.bytes()`. Not used for file: URLs, cached bytes or responses without a length.
   */
  alloc?: (size: number) => ByteSink;
  /**
   * In a browser with OPFS (and `cache` on), store the bytes as they arrive and resume a stopped
   * download with a Range request (js/resumable.ts); a finished one is read back with no request.
   * Elsewhere the usual path. Default false (Gpt2.load sets it for the weights).
   */
  resumable?: boolean;
}


const CACHE_NAME = 'semcache-models-v1';

/** Bytes of a URL (http(s), file: in Node, or a path relative to the page/module). */
export async function fetchBytes(url: string | URL, options: FetchBytesOptions = {}): Promise<Uint8Array> {
  const u = url instanceof URL ? url : new URL(url, baseUrl());
  if (options.signal?.aborted) throw abortError(options.signal);
  if (u.protocol === 'file:') {
    if (!platform.readFile) throw new SemcacheError('NOT_FOUND', `cannot read ${u.href} here (file: URLs need Node)`);
    try {
      const bytes = await platform.readFile(u);
      options.onProgress?.({ url: u.href, loaded: bytes.length, total: bytes.length });
      return bytes;
    } catch (e) {
      throw new SemcacheError('NOT_FOUND', `cannot read ${u.pathname}: ${(e as Error).message}`, { cause: e });
    }
  }
  const useCache = options.cache !== false;
  if (useCache && options.resumable && (u.protocol === 'http:' || u.protocol === 'https:') && canResume()) return fetchResumable(u.href, options);
  const cached = useCache ? await readCache(u.href) : undefined;
  if (cached) {
    options.onProgress?.({ url: u.href, loaded: cached.length, total: cached.length });
    return cached;
  }
  const res = await request(u.href, {}, options.signal);
  if (!res.ok) throw new SemcacheError('FETCH_FAILED', `fetching ${u.href} failed: HTTP ${res.status}${res.status === 404 ? ' (not found: check the URL)' : ''}`);
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  const bytes = await readBody(u.href, res, total, options);
  // Written before returning: a sink's bytes (wasm memory) stay valid until the caller allocates.
  if (useCache) await writeCache(u.href, bytes).catch(() => {});  // a full disk must not fail the load
  return bytes;
}

/** The body in one buffer: the sink or one of the known size when there is a Content-Length. */
async function readBody(url: string, res: Response, total: number | null, options: FetchBytesOptions): Promise<Uint8Array> {
  const progress = (loaded: number) => options.onProgress?.({ url, loaded, total });
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    progress(buf.length);
    return buf;
  }
  const sink = total !== null && options.alloc ? options.alloc(total) : undefined;
  let buf = new Uint8Array(sink ? 0 : (total ?? 1 << 20));
  let loaded = 0;
  const reader = res.body.getReader();
  progress(0);
  for (;;) {
    const chunk = await readChunk(reader, options.signal, () => `download of ${url} broke off after ${loaded} bytes`);
    if (chunk.done) break;
    const c = chunk.value;
    if (total !== null && loaded + c.length > total) {
      await reader.cancel().catch(() => {});
      throw new SemcacheError('FETCH_FAILED', `${url} sent more than its Content-Length (${total})`);
    }
    if (sink) {
      sink.set(c, loaded);
    } else {
      if (loaded + c.length > buf.length) {
        const bigger = new Uint8Array(Math.max(buf.length * 2, loaded + c.length));
        bigger.set(buf.subarray(0, loaded));
        buf = bigger;
      }
      buf.set(c, loaded);
    }
    loaded += c.length;
    progress(loaded);
  }
  if (total !== null && loaded !== total) throw new SemcacheError('FETCH_FAILED', `${url}: got ${loaded} of ${total} bytes`);
  if (sink) return sink.bytes();
  return loaded === buf.length ? buf : buf.slice(0, loaded);
}

export async function fetchText(url: string | URL, options: FetchBytesOptions = {}): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(url, options));
}

/** What relative URLs resolve against: the page's or worker's location, else file:/// (Node). */
export function baseUrl(): string {
  const loc = (globalThis as { location?: { href?: string } }).location?.href;
  return loc ?? 'file:///';
}

async function readCache(key: string): Promise<Uint8Array | undefined> {
  if (platform.readCached) return platform.readCached(key);
  const caches = (globalThis as { caches?: CacheStorage }).caches;
  if (!caches) return undefined;
  try {
    const hit = await (await caches.open(CACHE_NAME)).match(key);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(key: string, bytes: Uint8Array): Promise<void> {
  if (platform.writeCached) return platform.writeCached(key, bytes);
  const caches = (globalThis as { caches?: CacheStorage }).caches;
  if (!caches) return;
  await (await caches.open(CACHE_NAME)).put(key, new Response(bytes as Uint8Array<ArrayBuffer>));
}
