// One fetch-style handler (Request -> Response) for every place semcache serves HTTP: the Node
// server (`npm start`) and the edge worker. An OpenAI-compatible caching proxy plus the cache's
// own endpoints (GPTCache's server, redone), behind the checks of access.ts and body.ts.
import { SemcacheError, type SemcacheErrorCode } from '../errors.js';
import { hmacHex, importHmacKey } from '../llm/canonical.js';
import { requestKey, type RequestKind } from '../llm/request-key.js';
import type { ScopeInput } from '../scope.js';
import { createAccess, type AccessOptions, type Caller, type ClientInfo } from './access.js';
import { limitedBody, readJsonBody } from './body.js';
import { cachedCall, type CallCache } from '../llm/cached-call.js';
import { WIRES } from '../llm/wire.js';
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
  /** Largest POST /cache/import body in bytes (read as it streams in). Default 256 MiB. */
  maxImportBytes?: number;
  /** The import body must arrive within this many ms. Default 600,000. */
  importTimeoutMs?: number;
  /** Deepest JSON nesting accepted. Default 64. */
  maxJsonDepth?: number;
  /** The upstream must start answering, and keep sending, within this many ms. Default 60,000. */
  upstreamTimeoutMs?: number;
  /** Keeps work alive after the response (edge runtimes: ctx.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
  /** Cache failures (never request secrets). The request itself still gets answered. */
  onCacheError?: (error: Error, where: string) => void;
}

type Route = { method: 'GET' | 'POST'; endpoint?: RequestKind };
const ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { method: 'POST', endpoint: 'chat' },
  '/v1/completions': { method: 'POST', endpoint: 'completions' },
  '/v1/responses': { method: 'POST', endpoint: 'responses' },
  '/cache/get': { method: 'POST' },
  '/cache/put': { method: 'POST' },
  '/cache/clear': { method: 'POST' },
  '/cache/flush': { method: 'POST' },
  '/cache/stats': { method: 'GET' },
  '/cache/export': { method: 'GET' },
  '/cache/import': { method: 'POST' },
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
  // a refused import (POST /cache/import): a damaged or newer file, or another embedder's vectors
  CORRUPT_EXPORT: 400,
  UNSUPPORTED_VERSION: 400,
  DIMENSION_MISMATCH: 400,
  STORE_MISMATCH: 409,
  UPSTREAM_FAILED: 502,
  UPSTREAM_TIMEOUT: 504,
};
export const DEFAULT_MAX_IMPORT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_IMPORT_TIMEOUT_MS = 600_000;
/** Responses after which the connection must not carry another request (the body was not read). */
const CLOSE = new Set(['PAYLOAD_TOO_LARGE', 'BODY_TIMEOUT']);

export function createHandler(options: HandlerOptions): (request: Request, info?: ClientInfo) => Promise<Response> {
  const access = createAccess(options);
  const limits = { maxBytes: options.maxBodyBytes ?? 1 << 20, timeoutMs: options.bodyTimeoutMs ?? 30_000, maxDepth: options.maxJsonDepth ?? 64 };
  const importLimits = { maxBytes: options.maxImportBytes ?? DEFAULT_MAX_IMPORT_BYTES, timeoutMs: options.importTimeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS };
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
      if (path === '/cache/export') return exportResponse(request, caller);
      return json(200, await (await cacheFor(caller.tenant)).stats());
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (path === '/cache/import') {
      // Not JSON, but not a type a cross-site form can send either: a browser preflights it.
      if (type !== 'application/octet-stream') throw new SemcacheError('UNSUPPORTED_MEDIA_TYPE', 'send the export file as Content-Type: application/octet-stream');
      access.requireWrite(caller, path);
      const cache = await cacheFor(caller.tenant);
      return json(200, await cache.import(limitedBody(request, importLimits), { tenant: caller.tenant, signal: request.signal }));
    }
    if (type !== 'application/json') throw new SemcacheError('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
    if (path === '/cache/put' || path === '/cache/flush') access.requireWrite(caller, path);
    if (path === '/cache/clear') access.requireWrite(caller, path, true);
    const body = await readJsonBody(request, limits);
    if (r.endpoint) return completion(r.endpoint, path as CompletionPath, WIRES[r.endpoint].check(body), request, info, caller, state);
    return cacheEndpoint(path, body, request, caller);
  }

  async function completion(endpoint: RequestKind, path: CompletionPath, body: Record<string, unknown>, request: Request, info: ClientInfo, caller: Caller, state: { semcache: string }) {
    const cc = (request.headers.get('cache-control') ?? '').toLowerCase();
    const key = await requestKey(endpoint, body, { tenant: caller.tenant, credential: await credentialOf(request) });
    let cache: HandlerCache | undefined;
    if ('text' in key) {
      try {
        cache = await cacheFor(caller.tenant);
      } catch (e) {
        report(e, 'open');
      }
    }
    const lookup = !/\bno-cache\b|\bno-store\b/.test(cc);
    state.semcache = 'text' in key && lookup ? 'miss' : 'bypass';  // what an upstream failure reports
    return cachedCall({
      kind: endpoint,
      body,
      key,
      cache,
      lookup,
      store: !/\bno-store\b/.test(cc),
      upstream: () => callUpstream(options.upstream, path, { body: JSON.stringify(body), headers: request.headers, signal: request.signal }, upstreamTimeout),
      waitUntil: info.waitUntil ?? options.waitUntil,
      report,
    });
  }

  /** GET /cache/export[?scope=…]: the caller's tenant's entries (admin only: every prompt of it). */
  async function exportResponse(request: Request, caller: Caller): Promise<Response> {
    access.requireWrite(caller, '/cache/export');
    const q = new URL(request.url).searchParams.get('scope');
    let scope: ScopeInput | undefined;
    if (q !== null) {
      try {
        scope = JSON.parse(q) as ScopeInput;
      } catch {
        scope = q;  // a plain string names a namespace, as in /cache/get
      }
    }
    const cache = await cacheFor(caller.tenant);
    const body = cache.export(scope === undefined ? { tenant: caller.tenant } : { scope: withTenant(scope, caller.tenant), tenant: caller.tenant });
    const name = `semcache-${caller.tenant.replace(/[^A-Za-z0-9_.-]/g, '_')}.semcache`;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}"` } });
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
      const { answer: _a, ttl: _t, metadata: _m, ...request_ } = b;
      WIRES[kind].check(request_);
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
      return json(
        200,
        r.hit
          ? { hit: true, prompt: text, answer: r.answer, similarity: r.similarity, matchedPrompt: r.matchedPrompt, exact: r.exact, id: r.id, ...(r.metadata === undefined ? {} : { metadata: r.metadata }) }
          : { hit: false, prompt: text, similarity: r.similarity },
      );
    }
    if (typeof b.answer !== 'string') throw new SemcacheError('INVALID_REQUEST', '`answer` must be a string');
    const metadata = b.metadata === undefined ? undefined : b.metadata;
    const r = await cache.put(text, b.answer, { scope, ttl: typeof b.ttl === 'number' ? b.ttl : undefined, metadata });
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
