// One fetch-style handler (Request -> Response) for every place semcache serves HTTP: the Node
// server (`npm start`) and the edge worker. An OpenAI-compatible caching proxy plus the cache's
// own endpoints (GPTCache's server, redone).
import type { SemanticCacheApi } from '../api.js';
import { SemcacheError, type SemcacheErrorCode } from '../errors.js';
import type { ScopeInput } from '../scope.js';
import {
  answerOf,
  cacheKeyOf,
  checkBody,
  completionJson,
  completionStream,
  piecesOf,
  teeCompletionStream,
  type CacheKey,
  type ChatRequest,
  type Endpoint,
} from './openai.js';

/** What the handler needs of a cache (a SemanticCache, the OPFS proxy, or a proxy to one in a
 * Durable Object). */
export type HandlerCache = Pick<SemanticCacheApi, 'get' | 'put' | 'clear' | 'stats' | 'flush'>;

/** An OpenAI-compatible LLM: a remote base URL, or an in-process model answering the same way. */
export interface Upstream {
  readonly name: string;
  fetch(path: CompletionPath, init: { body: string; headers: Headers; signal?: AbortSignal }): Promise<Response>;
}

export interface HandlerOptions {
  /** The cache, or one per tenant (edge: a Durable Object each). */
  cache: HandlerCache | ((tenant: string) => HandlerCache | Promise<HandlerCache>);
  upstream: Upstream;
  /** Header naming the tenant. Default 'x-semcache-tenant'; absent = 'default'. */
  tenantHeader?: string;
  /** Largest request body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Keeps work alive after the response (edge runtimes: ctx.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
  /** Cache failures (never request secrets). The request itself still gets answered. */
  onCacheError?: (error: Error, where: string) => void;
}

/** A remote OpenAI-compatible upstream. The client's Authorization header is passed through
 * unless `apiKey` is set (a server-side secret); neither is ever logged or cached. */
export function remoteUpstream(baseUrl: string, options: { apiKey?: string; fetch?: typeof fetch } = {}): Upstream {
  const base = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const f = options.fetch ?? fetch;
  return {
    name: base,
    fetch(path, init) {
      const headers = new Headers({ 'content-type': 'application/json', accept: init.headers.get('accept') ?? '*/*' });
      const auth = options.apiKey ? `Bearer ${options.apiKey}` : init.headers.get('authorization');
      if (auth) headers.set('authorization', auth);
      for (const h of ['openai-organization', 'openai-project']) {
        const v = init.headers.get(h);
        if (v) headers.set(h, v);
      }
      return f(`${base}${path}`, { method: 'POST', body: init.body, headers, signal: init.signal });
    },
  };
}

type CompletionPath = '/v1/chat/completions' | '/v1/completions';
const ROUTES: Record<string, Endpoint> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions' };

export function createHandler(options: HandlerOptions): (request: Request) => Promise<Response> {
  const tenantHeader = options.tenantHeader ?? 'x-semcache-tenant';
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  const cacheFor = async (tenant: string) => (typeof options.cache === 'function' ? options.cache(tenant) : options.cache);
  const report = (e: unknown, where: string) => {
    try {
      options.onCacheError?.(e instanceof Error ? e : new Error(String(e)), where);
    } catch {
      // reporting must not break the request
    }
  };
  const later = (p: Promise<unknown>) => (options.waitUntil ? options.waitUntil(p) : void p);

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const tenant = request.headers.get(tenantHeader)?.trim() || 'default';
    try {
      const endpoint = ROUTES[url.pathname];
      if (endpoint) {
        if (request.method !== 'POST') return error(405, `use POST for ${url.pathname}`);
        const body = checkBody(endpoint, await readJson(request, maxBody));
        return await completion(endpoint, url.pathname as CompletionPath, body, request, tenant);
      }
      switch (url.pathname) {
        case '/cache/get':
        case '/cache/put':
        case '/cache/clear':
        case '/cache/flush': {
          if (request.method !== 'POST') return error(405, `use POST for ${url.pathname}`);
          const body = await readJson(request, maxBody);
          return await cacheEndpoint(url.pathname, body, tenant);
        }
        case '/cache/stats':
          if (request.method !== 'GET') return error(405, 'use GET for /cache/stats');
          return json(200, await (await cacheFor(tenant)).stats());
        case '/healthz':
          return json(200, { ok: true, upstream: options.upstream.name });
        default:
          return error(404, `no route ${request.method} ${url.pathname}`);
      }
    } catch (e) {
      if (e instanceof SemcacheError) {
        const status = e.code === 'INVALID_REQUEST' || e.code.startsWith('INVALID_') ? 400 : e.code === 'PAYLOAD_TOO_LARGE' ? 413 : 500;
        return error(status, e.message, e.code);
      }
      return error(502, `upstream request failed: ${(e as Error)?.message ?? e}`, 'UPSTREAM_FAILED');
    }
  };

  async function completion(endpoint: Endpoint, path: CompletionPath, body: ChatRequest, request: Request, tenant: string) {
    const cc = (request.headers.get('cache-control') ?? '').toLowerCase();
    const skipLookup = /\bno-cache\b|\bno-store\b/.test(cc);
    const skipStore = /\bno-store\b/.test(cc);
    const key = cacheKeyOf(endpoint, body, tenant);
    const cacheable = !('uncacheable' in key);
    const model = body.model ?? '';
    let cache: HandlerCache | undefined;
    if (cacheable) {
      try {
        cache = await cacheFor(tenant);
      } catch (e) {
        report(e, 'open');
      }
    }
    if (cache && cacheable && !skipLookup) {
      try {
        const r = await cache.get(key.prompt, { scope: key.scope });
        if (r.hit) {
          const chunks = (r.metadata as { chunks?: unknown } | undefined)?.chunks;
          const pieces = Array.isArray(chunks) && chunks.every((c) => typeof c === 'string') ? (chunks as string[]) : piecesOf(r.answer);
          const headers = { 'x-semcache': 'hit', 'x-semcache-similarity': r.similarity.toFixed(4), 'x-semcache-id': String(r.id) };
          if (body.stream) return sse(completionStream(endpoint, model, pieces), headers);
          return json(200, completionJson(endpoint, model, r.answer), headers);
        }
      } catch (e) {
        report(e, 'get');
      }
    }
    const res = await options.upstream.fetch(path, { body: JSON.stringify(body), headers: request.headers, signal: request.signal });
    const headers: Record<string, string> = { 'x-semcache': cacheable && !skipLookup ? 'miss' : 'bypass' };
    if (!res.ok || !res.body) return passThrough(res, headers);
    const store = cache && cacheable && !skipStore ? { cache, key } : undefined;
    if (body.stream && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const tee = teeCompletionStream(endpoint, res.body);
      if (store) later(tee.done.then((pieces) => pieces && save(store, pieces.join(''), { chunks: pieces })));
      return sse(tee.stream, headers);
    }
    const text = await res.text();
    if (store) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const answer = answerOf(endpoint, parsed);
      if (answer !== null && answer.trim()) await save(store, answer, undefined);
    }
    return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', ...headers } });
  }

  async function save(store: { cache: HandlerCache; key: CacheKey }, answer: string, metadata: unknown) {
    try {
      await store.cache.put(store.key.prompt, answer, { scope: store.key.scope, metadata });
    } catch (e) {
      report(e, 'put');
    }
  }

  async function cacheEndpoint(path: string, body: unknown, tenant: string): Promise<Response> {
    const cache = await cacheFor(tenant);
    const b = (body ?? {}) as Record<string, unknown>;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw new SemcacheError('INVALID_REQUEST', 'the request body must be a JSON object');
    if (path === '/cache/flush') {
      await cache.flush();
      return json(200, { ok: true });
    }
    if (path === '/cache/clear') {
      const removed = await cache.clear(b.scope === undefined ? {} : { scope: withTenant(b.scope, tenant) });
      return json(200, { removed });
    }
    // get/put take either {prompt, scope} or an OpenAI request body ({model, messages, …}).
    let key: CacheKey;
    if (Array.isArray(b.messages) || (b.prompt !== undefined && b.model !== undefined)) {
      const endpoint: Endpoint = Array.isArray(b.messages) ? 'chat' : 'completions';
      const k = cacheKeyOf(endpoint, checkBody(endpoint, b), tenant);
      if ('uncacheable' in k) throw new SemcacheError('INVALID_REQUEST', `this request is not cacheable: ${k.uncacheable}`);
      key = k;
    } else {
      if (typeof b.prompt !== 'string') throw new SemcacheError('INVALID_REQUEST', '`prompt` must be a string');
      key = { prompt: b.prompt, scope: withTenant(b.scope, tenant) as CacheKey['scope'] };
    }
    if (path === '/cache/get') {
      const r = await cache.get(key.prompt, { scope: key.scope });
      return json(200, r.hit ? { hit: true, prompt: key.prompt, answer: r.answer, similarity: r.similarity, matchedPrompt: r.matchedPrompt, id: r.id } : { hit: false, prompt: key.prompt, similarity: r.similarity });
    }
    if (typeof b.answer !== 'string') throw new SemcacheError('INVALID_REQUEST', '`answer` must be a string');
    const r = await cache.put(key.prompt, b.answer, { scope: key.scope, ttl: typeof b.ttl === 'number' ? b.ttl : undefined });
    return json(200, { id: r.id, evicted: r.evicted });
  }
}

/** The tenant always comes from the header: a body cannot reach another tenant's entries. */
function withTenant(scope: unknown, tenant: string): ScopeInput {
  if (scope === undefined || scope === null) return { tenant };
  if (typeof scope === 'string') return { namespace: scope, tenant };
  if (typeof scope !== 'object' || Array.isArray(scope)) throw new SemcacheError('INVALID_SCOPE', '`scope` must be an object or a string');
  return { ...(scope as object), tenant };
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new SemcacheError('PAYLOAD_TOO_LARGE', `request body is over ${maxBytes} bytes`);
  const text = await request.text();
  if (text.length > maxBytes) throw new SemcacheError('PAYLOAD_TOO_LARGE', `request body is over ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SemcacheError('INVALID_REQUEST', `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function error(status: number, message: string, code?: SemcacheErrorCode): Response {
  const type = status < 500 ? 'invalid_request_error' : 'api_error';
  return json(status, { error: { message, type, code: code ?? null } });
}

function sse(stream: ReadableStream<Uint8Array>, headers: Record<string, string>): Response {
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers } });
}

function passThrough(res: Response, headers: Record<string, string>): Response {
  const h = new Headers(res.headers);
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  h.delete('content-encoding');
  h.delete('content-length');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
}
