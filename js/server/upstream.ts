// The LLM behind the cache: a remote OpenAI-compatible API or the in-process GPT-2, and calling
// it with a deadline that the platform's HTTP client does not set (undici waits 300 s).
import { SemcacheError } from '../errors.js';

export type CompletionPath = '/v1/chat/completions' | '/v1/completions' | '/v1/responses';

/** An OpenAI-compatible LLM: a remote base URL, or an in-process model answering the same way. */
export interface Upstream {
  readonly name: string;
  /** The client's own Authorization reaches the upstream (no server-side key): then a hit must
   * come from entries of the same credential (see docs/security.md, "Pass-through auth"). */
  readonly forwardsClientAuth?: boolean;
  fetch(path: CompletionPath, init: { body: string; headers: Headers; signal?: AbortSignal }): Promise<Response>;
}

/** The request headers a pass-through upstream sees as the caller's identity. */
export const CREDENTIAL_HEADERS = ['authorization', 'openai-organization', 'openai-project'] as const;

/** A remote OpenAI-compatible upstream. The client's Authorization header is passed through
 * unless `apiKey` is set (a server-side secret); neither is ever logged or cached. */
export function remoteUpstream(baseUrl: string, options: { apiKey?: string; fetch?: typeof fetch } = {}): Upstream {
  const base = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const f = options.fetch ?? fetch;
  return {
    name: base,
    forwardsClientAuth: !options.apiKey,
    fetch(path, init) {
      const headers = new Headers({ 'content-type': 'application/json', accept: init.headers.get('accept') ?? '*/*' });
      const auth = options.apiKey ? `Bearer ${options.apiKey}` : init.headers.get('authorization');
      if (auth) headers.set('authorization', auth);
      for (const h of CREDENTIAL_HEADERS.slice(1)) {
        const v = init.headers.get(h);
        if (v) headers.set(h, v);
      }
      return f(`${base}${path}`, { method: 'POST', body: init.body, headers, signal: init.signal });
    },
  };
}

/**
 * Calls the upstream with an idle deadline: its response must start within `timeoutMs`, and a
 * body (streamed or not) must not stall longer than that between two chunks. A client that goes
 * away (`signal`) cancels the call too. Throws SemcacheError UPSTREAM_TIMEOUT or UPSTREAM_FAILED.
 */
export async function callUpstream(
  upstream: Upstream,
  path: CompletionPath,
  init: { body: string; headers: Headers; signal?: AbortSignal },
  timeoutMs: number,
): Promise<Response> {
  const ac = new AbortController();
  const timeout = new SemcacheError('UPSTREAM_TIMEOUT', `the upstream sent nothing for ${timeoutMs} ms`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let out: TransformStreamDefaultController<Uint8Array> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      ac.abort(timeout);
      try {
        out?.error(timeout);  // even if the upstream's body ignores the signal
      } catch {
        // already closed
      }
    }, timeoutMs);
  };
  const onClientGone = () => ac.abort(init.signal?.reason);
  init.signal?.addEventListener('abort', onClientGone, { once: true });
  const done = () => {
    clearTimeout(timer);
    init.signal?.removeEventListener('abort', onClientGone);
  };
  arm();
  let res: Response;
  try {
    res = await upstream.fetch(path, { body: init.body, headers: init.headers, signal: ac.signal });
  } catch (e) {
    done();
    if (ac.signal.reason === timeout) throw timeout;
    throw new SemcacheError('UPSTREAM_FAILED', `upstream request failed: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  if (!res.body) {
    done();
    return res;
  }
  arm();
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        out = controller;
      },
      transform(chunk, controller) {
        arm();
        controller.enqueue(chunk);
      },
      flush: done,
    }),
  );
  ac.signal.addEventListener('abort', done, { once: true });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
