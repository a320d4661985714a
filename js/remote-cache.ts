// A semcache server or edge worker as a cache tier (`next`): lookups through its POST /cache/get,
// writes through POST /cache/put. Both routes are the handler's (js/server/handler.ts); who may
// call them is docs/security.md's business: lookups are public (per tenant), writes need the admin
// token, so a remote cache takes writes only when it is given that credential.
import type { GetOptions, GetResult, NextCache, PutOptions, PutResult } from './api.js';
import { SemcacheError, abortError, isErrorCode } from './errors.js';
import type { ScopeInput } from './scope.js';

export interface RemoteCacheOptions {
  /** Base URL of the server or worker: `${url}/cache/get` and `${url}/cache/put` are called. */
  url: string | URL;
  /** Sent with every call: the tenant (X-Semcache-Tenant, or a tenant token), and for writes the
   * admin token (X-Semcache-Admin-Token). */
  headers?: Record<string, string>;
  /** Whether puts are sent (write-through of shared scopes). Default: true when `headers` carry
   * X-Semcache-Admin-Token, the only credential /cache/put takes; else false (a read-only tier:
   * answers reach the remote through its completion endpoint instead, see docs/security.md). */
  writes?: boolean;
  /** The JSON body for a prompt: default `{prompt, scope}`. Return an OpenAI request body
   * (`{model, messages}`) to look up, and write, under the key the remote's
   * /v1/chat/completions uses for that request. */
  request?: (prompt: string, scope: ScopeInput) => Record<string, unknown>;
  /** Each call must answer within this many ms, else it fails (a lookup is then a miss). Default 3000. */
  timeoutMs?: number;
  /** The fetch to use. Default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface RemoteCache extends NextCache {
  readonly url: string;
  readonly writes: boolean;
}

/** A remote semcache (server or edge worker) as a cache: `next` of a local one. */
export function remoteCache(options: RemoteCacheOptions): RemoteCache {
  if (!options || (typeof options.url !== 'string' && !(options.url instanceof URL))) {
    throw new SemcacheError('INVALID_ARGUMENT', 'remoteCache needs { url }: the base URL of a semcache server or edge worker');
  }
  let base: string;
  try {
    base = new URL(String(options.url)).href.replace(/\/+$/, '');
  } catch {
    throw new SemcacheError('INVALID_ARGUMENT', `remoteCache: ${String(options.url)} is not an absolute URL`);
  }
  const headers = { ...(options.headers ?? {}) };
  const admin = Object.keys(headers).some((h) => h.toLowerCase() === 'x-semcache-admin-token');
  const writes = options.writes ?? admin;
  const timeoutMs = options.timeoutMs ?? 3000;
  if (!(timeoutMs > 0)) throw new SemcacheError('INVALID_ARGUMENT', `remoteCache: timeoutMs must be positive, got ${timeoutMs}`);
  const doFetch = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const bodyOf = (prompt: string, scope: ScopeInput) => (options.request ? options.request(prompt, scope) : { prompt, ...(scope === undefined ? {} : { scope }) });

  async function call(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const url = `${base}${path}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await doFetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: both });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (e as Error)?.message ?? String(e);
      throw new SemcacheError('REMOTE_FAILED', `remote cache ${url}: ${why}`, { cause: e });
    }
    let json: Record<string, unknown> | undefined;
    try {
      json = (await res.json()) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (!res.ok || !json || typeof json !== 'object') {
      const err = (json?.error ?? {}) as { code?: unknown; message?: unknown };
      const what = `remote cache ${url}: HTTP ${res.status}${typeof err.message === 'string' ? `: ${err.message}` : ''}`;
      throw new SemcacheError(isErrorCode(err.code) ? err.code : 'REMOTE_FAILED', what);
    }
    return json;
  }

  const cache: RemoteCache = {
    url: base,
    writes,
    async get(prompt: string, o: GetOptions = {}): Promise<GetResult> {
      const t0 = performance.now();
      const r = await call('/cache/get', bodyOf(prompt, o.scope), o.signal);
      const timings = { embedMs: 0, searchMs: 0, storeMs: 0, totalMs: performance.now() - t0 };
      const similarity = typeof r.similarity === 'number' ? r.similarity : null;
      if (r.hit !== true) return { hit: false, similarity, score: similarity, candidates: [], timings };
      if (typeof r.answer !== 'string' || similarity === null) throw new SemcacheError('REMOTE_FAILED', `remote cache ${base}/cache/get: a hit without an answer`);
      return {
        hit: true,
        id: typeof r.id === 'number' ? r.id : 0,
        answer: r.answer,
        similarity,
        score: similarity,
        matchedPrompt: typeof r.matchedPrompt === 'string' ? r.matchedPrompt : prompt,
        exact: r.exact === true,
        ...(r.metadata === undefined ? {} : { metadata: r.metadata }),
        candidates: [],
        timings,
        tier: 'local',
      };
    },
  };
  if (writes) {
    cache.put = async (prompt: string, answer: string, o: PutOptions = {}): Promise<PutResult> => {
      const body: Record<string, unknown> = { ...bodyOf(prompt, o.scope), answer };
      if (o.ttl !== undefined) body.ttl = o.ttl;
      if (o.metadata !== undefined) body.metadata = o.metadata;
      const r = await call('/cache/put', body, o.signal);
      return { id: Number(r.id), evicted: Number(r.evicted ?? 0), replaced: null };
    };
  }
  return cache;
}
