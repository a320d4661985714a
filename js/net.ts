// Fetching model files: progress, abort, local files in Node, and a cache of downloaded bytes
// (a directory in Node, the Cache API in browsers) so a model is downloaded once.
import { SemcacheError, abortError } from './errors.js';
import { platform } from './platform.js';

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
  const cached = useCache ? await readCache(u.href) : undefined;
  if (cached) {
    options.onProgress?.({ url: u.href, loaded: cached.length, total: cached.length });
    return cached;
  }
  let res: Response;
  try {
    res = await fetch(u, { signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw new SemcacheError('FETCH_FAILED', `could not fetch ${u.href}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok || !res.body) throw new SemcacheError('FETCH_FAILED', `fetching ${u.href} failed: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      options.onProgress?.({ url: u.href, loaded, total });
    }
  } catch (e) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw new SemcacheError('FETCH_FAILED', `download of ${u.href} broke off after ${loaded} bytes: ${(e as Error).message}`, { cause: e });
  }
  if (total !== null && loaded !== total) throw new SemcacheError('FETCH_FAILED', `${u.href}: got ${loaded} of ${total} bytes`);
  const bytes = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  if (useCache) await writeCache(u.href, bytes).catch(() => {});  // a full disk must not fail the load
  return bytes;
}

export async function fetchText(url: string | URL, options: FetchBytesOptions = {}): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(url, options));
}

function baseUrl(): string {
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
