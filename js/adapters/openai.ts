// semcache/openai: the OpenAI SDK with a semantic cache, through the one seam the SDK offers
// for this, its `fetch` option. Chat completions, completions and responses are served from the
// cache, streamed or not, with the server's semantics (js/llm/cached-call.ts): the request's key
// from requestKey, a hit replayed in the shape the SDK parses (`for await (const chunk of
// stream)` works unchanged), a miss streamed through while it is recorded and stored once it
// completed, similar misses in flight sharing one API call. Everything else passes through.
// This module imports nothing from the `openai` package: it works with any client that takes a
// fetch (OpenAI, AzureOpenAI, other OpenAI-compatible SDKs).
import { cachedCall, type CallCache } from '../llm/cached-call.js';
import { requestKey, type RequestKind } from '../llm/request-key.js';
import { WIRES } from '../llm/wire.js';

export interface OpenAICacheOptions {
  /** The fetch that reaches the API. Default: globalThis.fetch (the SDK's own default). */
  fetch?: typeof fetch;
  /** Tenant in every key: entries of different tenants never meet. Default 'default'. */
  tenant?: string;
  /** Cache failures (the API call is made all the same). Default: none. */
  onCacheError?: (error: Error, where: string) => void;
}

/** Which API a request is for, by the end of its path (base URLs differ: /v1, Azure, proxies). */
function kindOf(url: string): RequestKind | undefined {
  const path = new URL(url, 'http://x').pathname.replace(/\/+$/, '');
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/responses')) return 'responses';
  if (path.endsWith('/completions')) return 'completions';
  return undefined;
}

/**
 * A `fetch` for `new OpenAI({ fetch })` that answers from `cache` when it can. Responses say
 * what the cache did in `x-semcache` (hit | miss | bypass), as the server's do; read them with
 * the SDK's `.withResponse()`.
 */
export function semanticCacheFetch(cache: CallCache, options: OpenAICacheOptions = {}): typeof fetch {
  const inner = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const report = (e: unknown, where: string) => {
    try {
      options.onCacheError?.(e instanceof Error ? e : new Error(String(e)), where);
    } catch {
      // a throwing reporter must not break the call
    }
  };
  return async function semcacheFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const kind = method === 'POST' && typeof init?.body === 'string' ? kindOf(url) : undefined;
    if (!kind) return inner(input, init);
    let body: Record<string, unknown>;
    try {
      body = WIRES[kind].check(JSON.parse(init!.body as string));
    } catch {
      return inner(input, init);  // not a request this cache reads: the API will say what is wrong
    }
    const cc = (new Headers(init!.headers).get('cache-control') ?? '').toLowerCase();
    return cachedCall({
      kind,
      body,
      key: await requestKey(kind, body, { tenant: options.tenant }),
      cache,
      lookup: !/\bno-cache\b|\bno-store\b/.test(cc),
      store: !/\bno-store\b/.test(cc),
      upstream: () => inner(input, init),
      report,
    });
  };
}

/**
 * The same client with its requests going through `cache` (the SDK's `withOptions`, which keeps
 * every other setting). The client's own fetch, if it had one, still makes the API calls.
 */
export function withSemanticCache<C extends { withOptions(o: { fetch?: typeof fetch }): C }>(client: C, cache: CallCache, options: Omit<OpenAICacheOptions, 'fetch'> = {}): C {
  // the SDK keeps its fetch (given, or the platform's) in a field its types call private
  const f = (client as unknown as { fetch?: unknown }).fetch;
  const own = typeof f === 'function' ? (f as typeof fetch) : undefined;
  return client.withOptions({ fetch: semanticCacheFetch(cache, { ...options, fetch: own }) });
}
