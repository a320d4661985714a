// One fetch-style handler (Request -> Response) for every place semcache serves HTTP: the Node
// server (`npm start`) and the edge worker. An OpenAI-compatible caching proxy plus the cache's
// own endpoints (GPTCache's server, redone), behind the checks of access.ts and body.ts.
import { SemcacheError, type SemcacheErrorCode } from '../errors.js';
import { hmacHex, importHmacKey } from '../llm/canonical.js';
import { requestKey, type RequestKind } from '../llm/request-key.js';
import type { Scope, ScopeInput } from '../scope.js';
import { createAccess, type AccessOptions, type Caller, type ClientInfo } from './access.js';
import { readJsonBody } from './body.js';
import {
  answerMetaOf,
  answerOf,
  checkBody,
  completionJson,
  completionStream,
  extrasOf,
  piecesOf,
  teeCompletionStream,
  type AnswerMeta,
  type ChatRequest,
  type Endpoint,
} from './openai.js';
import { tenantView, type HandlerCache, type SharedCache } from './tenant-view.js';
import { callUpstream, CREDENTIAL_HEADERS, type CompletionPath, type Upstream } from './upstream.js';

export { remoteUpstream, type Upstream } from './upstream.js';
export type { ClientInfo } from './access.js';

export type { HandlerCache } from './tenant-view.js';

export interface HandlerOptions extends AccessOptions {
  /** One cache per tenant (edge: its Durable Objects), or one cache all tenants share (it must
   * list its entries, so that clear and stats reach only the caller's tenant). */
  cache: SharedCache | ((tenant: string) => HandlerCache | Promise<HandlerCache>);
  upstream: Upstream;
  /** Key of the hash that scopes entries by the client's credential when the upstream sees the
   * client's own key (`upstream.forwardsClientAuth`). Required then. */
  credentialHashKey?: string | Uint8Array;
  /** Largest request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** The request body must arrive within this many ms. Default 30,000. */
  bodyTimeoutMs?: number;
  /** Deepest JSON nesting accepted. Default 64. */
  maxJsonDepth?: number;
  /** The upstream must start answering, and keep sending, within this many ms. Default 60,000. */
  upstreamTimeoutMs?: number;
  /** Keeps work alive after the response (edge runtimes: ctx.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
  /** Cache failures (never request secrets). The request itself still gets answered. */
  onCacheError?: (error: Error, where: string) => void;
}

type Route = { method: 'GET' | 'POST'; endpoint?: Endpoint };
const ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { method: 'POST', endpoint: 'chat' },
  '/v1/completions': { method: 'POST', endpoint: 'completions' },
  '/cache/get': { method: 'POST' },
  '/cache/put': { method: 'POST' },
  '/cache/clear': { method: 'POST' },
  '/cache/flush': { method: 'POST' },
  '/cache/stats': { method: 'GET' },
  '/healthz': { method: 'GET' },
};
const STATUS: Record<string, number> = {
  JSON_TOO_DEEP: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CROSS_ORIGIN: 403,
  HOST_NOT_ALLOWED: 403,
  BODY_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPSTREAM_FAILED: 502,
  UPSTREAM_TIMEOUT: 504,
};
/** Responses after which the connection must not carry another request (the body was not read). */
const CLOSE = new Set(['PAYLOAD_TOO_LARGE', 'BODY_TIMEOUT']);

export function createHandler(options: HandlerOptions): (request: Request, info?: ClientInfo) => Promise<Response> {
  const access = createAccess(options);
  const limits = { maxBytes: options.maxBodyBytes ?? 1 << 20, timeoutMs: options.bodyTimeoutMs ?? 30_000, maxDepth: options.maxJsonDepth ?? 64 };
  const upstreamTimeout = options.upstreamTimeoutMs ?? 60_000;
  if (options.upstream.forwardsClientAuth && options.credentialHashKey === undefined) {
    throw new SemcacheError('CONFIG', 'an upstream that sees the client\'s own key needs credentialHashKey: entries are kept per credential');
  }
  const credentialKey = options.upstream.forwardsClientAuth ? importHmacKey(options.credentialHashKey!) : undefined;
  const shared = typeof options.cache === 'function' ? undefined : options.cache;
  const cacheFor = async (tenant: string) => (shared ? tenantView(shared, tenant) : (options.cache as (t: string) => HandlerCache | Promise<HandlerCache>)(tenant));
  const report = (e: unknown, where: string) => {
    try {
      options.onCacheError?.(e instanceof Error ? e : new Error(String(e)), where);
    } catch {
      // reporting must not break the request
    }
  };

  /** The keyed hash of the caller's credential, when entries are kept per credential. */
  async function credentialOf(request: Request): Promise<string | undefined> {
    if (!credentialKey) return undefined;
    return hmacHex(await credentialKey, CREDENTIAL_HEADERS.map((h) => request.headers.get(h) ?? '').join('\n'));
  }

  return async function handle(request: Request, info: ClientInfo = {}): Promise<Response> {
    const state = { semcache: 'bypass', cors: {} as Record<string, string> };
    let res: Response;
    try {
      res = await route(request, info, state);
    } catch (e) {
      if (e instanceof SemcacheError) {
        const status = STATUS[e.code] ?? (e.code.startsWith('INVALID_') ? 400 : 500);
        res = error(status, e.message, e.code, CLOSE.has(e.code) ? { connection: 'close' } : {});
      } else {
        res = error(500, `internal error: ${(e as Error)?.message ?? e}`, 'INTERNAL');
      }
    }
    // every response says what the cache did, including errors and upstream failures
    if (!res.headers.has('x-semcache')) res.headers.set('x-semcache', state.semcache);
    for (const [k, v] of Object.entries(state.cors)) res.headers.set(k, v);
    return res;
  };

  async function route(request: Request, info: ClientInfo, state: { semcache: string; cors: Record<string, string> }): Promise<Response> {
    const method = request.method.toUpperCase();
    const path = new URL(request.url).pathname;
    const r = ROUTES[path];
    const allow = r ? `${r.method}, OPTIONS` : 'GET, POST, OPTIONS';
    if (!['GET', 'HEAD', 'POST', 'OPTIONS'].includes(method)) return error(405, `method ${method} is not allowed`, 'METHOD_NOT_ALLOWED', { allow });
    if (!r) return error(404, `no route ${method} ${path}`, 'NO_ROUTE');
    if (method === 'OPTIONS') {
      const cors = access.corsHeaders(request.headers.get('origin'));
      if (!cors['access-control-allow-origin']) throw new SemcacheError('CROSS_ORIGIN', 'this origin may not call from another site');
      return new Response(null, { status: 204, headers: { ...cors, ...access.preflightHeaders() } });
    }
    const caller = await access.caller(request, info);
    state.cors = caller.cors;
    if (method !== r.method) return error(405, `use ${r.method} for ${path}`, 'METHOD_NOT_ALLOWED', { allow });
    if (r.method === 'GET') {
      if (path === '/healthz') return json(200, { ok: true, upstream: options.upstream.name });
      return json(200, await (await cacheFor(caller.tenant)).stats());
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new SemcacheError('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
    if (path === '/cache/put' || path === '/cache/flush') access.requireWrite(caller, path);
    if (path === '/cache/clear') access.requireWrite(caller, path, true);
    const body = await readJsonBody(request, limits);
    if (r.endpoint) return completion(r.endpoint, path as CompletionPath, checkBody(r.endpoint, body), request, info, caller, state);
    return cacheEndpoint(path, body, request, caller);
  }

  async function completion(endpoint: Endpoint, path: CompletionPath, body: ChatRequest, request: Request, info: ClientInfo, caller: Caller, state: { semcache: string }) {
    const cc = (request.headers.get('cache-control') ?? '').toLowerCase();
    const skipLookup = /\bno-cache\b|\bno-store\b/.test(cc);
    const skipStore = /\bno-store\b/.test(cc);
    const key = await requestKey(endpoint, body, { tenant: caller.tenant, credential: await credentialOf(request) });
    const cacheable = 'text' in key;
    const model = body.model ?? '';
    let cache: HandlerCache | undefined;
    if (cacheable) {
      try {
        cache = await cacheFor(caller.tenant);
      } catch (e) {
        report(e, 'open');
      }
    }
    if (cache && cacheable && !skipLookup) {
      try {
        const r = await cache.get(key.text, { scope: key.scope });
        if (r.hit) {
          const meta = answerMetaOf(r.metadata);
          const headers = { 'x-semcache': 'hit', 'x-semcache-similarity': r.similarity.toFixed(4), 'x-semcache-id': String(r.id) };
          const extras = extrasOf(meta);
          if (!body.stream) return json(200, completionJson(endpoint, model, r.answer, extras), headers);
          const wantsUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
          const usage = wantsUsage ? (meta.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }) : undefined;
          return sse(completionStream(endpoint, model, meta.chunks ?? piecesOf(r.answer), { finish: meta.finish, usage }), headers);
        }
      } catch (e) {
        report(e, 'get');
      }
    }
    state.semcache = cacheable && !skipLookup ? 'miss' : 'bypass';
    const headers = { 'x-semcache': state.semcache };
    const res = await callUpstream(options.upstream, path, { body: JSON.stringify(body), headers: request.headers, signal: request.signal }, upstreamTimeout);
    if (!res.ok || !res.body) return passThrough(res, headers);
    const store = cache && cacheable && !skipStore ? { cache, text: key.text, scope: key.scope } : undefined;
    if (body.stream && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const tee = teeCompletionStream(endpoint, res.body);
      if (store) {
        const saved = tee.done.then((got) => got && save(store, got.chunks.join(''), got));
        (info.waitUntil ?? options.waitUntil)?.(saved);  // Node needs no keeping alive
      }
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
      const got = answerOf(endpoint, parsed);
      if (got && got.answer.trim()) await save(store, got.answer, got.meta);
    }
    return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', ...headers } });
  }

  async function save(store: { cache: HandlerCache; text: string; scope: Scope }, answer: string, metadata: AnswerMeta) {
    try {
      await store.cache.put(store.text, answer, { scope: store.scope, metadata });
    } catch (e) {
      report(e, 'put');
    }
  }

  async function cacheEndpoint(path: string, body: unknown, request: Request, caller: Caller): Promise<Response> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SemcacheError('INVALID_REQUEST', 'the request body must be a JSON object');
    const b = body as Record<string, unknown>;
    const cache = await cacheFor(caller.tenant);
    if (path === '/cache/flush') {
      await cache.flush();
      return json(200, { ok: true });
    }
    if (path === '/cache/clear') {
      const removed = await cache.clear(b.scope === undefined ? {} : { scope: withTenant(b.scope, caller.tenant) });
      return json(200, { removed });
    }
    // get/put take either {prompt, scope} or an OpenAI request body ({model, messages, …}).
    let text: string, scope: ScopeInput;
    const kind: RequestKind | undefined = Array.isArray(b.messages) ? 'chat' : b.input !== undefined ? 'responses' : b.prompt !== undefined && b.model !== undefined ? 'completions' : undefined;
    if (kind) {
      const { answer: _a, ttl: _t, ...request_ } = b;
      if (kind !== 'responses') checkBody(kind, request_);
      const k = await requestKey(kind, request_, { tenant: caller.tenant, credential: await credentialOf(request) });
      if ('bypass' in k) throw new SemcacheError('INVALID_REQUEST', `this request is not cacheable: ${k.bypass}`);
      ({ text, scope } = k);
    } else {
      if (typeof b.prompt !== 'string') throw new SemcacheError('INVALID_REQUEST', '`prompt` must be a string');
      text = b.prompt;
      scope = withTenant(b.scope, caller.tenant);
    }
    if (path === '/cache/get') {
      const r = await cache.get(text, { scope });
      return json(200, r.hit ? { hit: true, prompt: text, answer: r.answer, similarity: r.similarity, matchedPrompt: r.matchedPrompt, id: r.id } : { hit: false, prompt: text, similarity: r.similarity });
    }
    if (typeof b.answer !== 'string') throw new SemcacheError('INVALID_REQUEST', '`answer` must be a string');
    const r = await cache.put(text, b.answer, { scope, ttl: typeof b.ttl === 'number' ? b.ttl : undefined });
    return json(200, { id: r.id, evicted: r.evicted });
  }
}

/** The tenant always comes from the caller: a body cannot reach another tenant's entries. */
function withTenant(scope: unknown, tenant: string): ScopeInput {
  if (scope === undefined || scope === null) return { tenant };
  if (typeof scope === 'string') return { namespace: scope, tenant };
  if (typeof scope !== 'object' || Array.isArray(scope)) throw new SemcacheError('INVALID_SCOPE', '`scope` must be an object or a string');
  return { ...(scope as object), tenant };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function error(status: number, message: string, code: SemcacheErrorCode, headers: Record<string, string> = {}): Response {
  const type = status < 500 ? 'invalid_request_error' : 'api_error';
  return json(status, { error: { message, type, code } }, headers);
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
