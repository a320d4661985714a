// An embedder that calls an OpenAI-compatible `POST /v1/embeddings` endpoint: for edge workers
// (where a local model may not fit) and for anyone who already pays for an embeddings API.
import type { Embedder } from '../embedder.js';
import { SemcacheError, abortError } from '../errors.js';

export interface RemoteEmbedderOptions {
  /** Base URL of the API (`https://api.openai.com` or `…/v1`); the request goes to {url}/v1/embeddings. */
  url: string;
  /** The `model` field sent with every request. */
  model: string;
  /** Sent as `Authorization: Bearer …`. Never logged, never part of an error message. */
  apiKey?: string;
  /** Expected vector length. Sent as `dimensions` only when `sendDimensions` is true (some
   * servers reject the field); every returned vector is checked against it. */
  dimensions?: number;
  sendDimensions?: boolean;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /** Per-request timeout in ms; 0 = none. Default 10,000. */
  timeoutMs?: number;
  /** Extra headers (e.g. an API gateway's). */
  headers?: Record<string, string>;
  /** The fetch to use (tests, service bindings). Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Cosine threshold calibrated for this model, if you have one. */
  defaultThreshold?: number;
}

interface EmbeddingsResponse {
  data?: { embedding?: unknown; index?: unknown }[];
}

/** An Embedder backed by an OpenAI-compatible embeddings endpoint. */
export function remoteEmbedder(options: RemoteEmbedderOptions): Embedder {
  if (!options || typeof options.url !== 'string' || !/^https?:\/\//i.test(options.url)) {
    throw new SemcacheError('INVALID_ARGUMENT', `remoteEmbedder needs an http(s) url, got ${JSON.stringify(options?.url)}`);
  }
  if (typeof options.model !== 'string' || !options.model) {
    throw new SemcacheError('INVALID_ARGUMENT', 'remoteEmbedder needs a model name');
  }
  const dims = options.dimensions;
  if (dims !== undefined && (!Number.isInteger(dims) || dims < 1)) {
    throw new SemcacheError('INVALID_ARGUMENT', `dimensions must be a positive integer, got ${dims}`);
  }
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new SemcacheError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const endpoint = `${options.url.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/embeddings`;
  const f = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const fail = (message: string, cause?: unknown) =>
    new SemcacheError('EMBEDDER_FAILED', `embeddings endpoint ${endpoint} (model ${options.model}): ${message}`, cause === undefined ? undefined : { cause });

  async function request(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...options.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const body: Record<string, unknown> = { model: options.model, input: texts, encoding_format: 'float' };
    if (dims !== undefined && options.sendDimensions) body.dimensions = dims;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), controller.abort()), timeoutMs) : undefined;
    let res: Response;
    let text: string;
    try {
      res = await f(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (timedOut) throw fail(`no answer within ${timeoutMs} ms`);
      throw fail(`request failed: ${(e as Error)?.message ?? e}`, e);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (!res.ok) {
      let detail = text.slice(0, 300);
      try {
        const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
        if (typeof m === 'string') detail = m;
      } catch {
        // not JSON: keep the raw start of the body
      }
      throw fail(`HTTP ${res.status}${detail ? `: ${detail}` : ''}`);
    }
    let json: EmbeddingsResponse;
    try {
      json = JSON.parse(text) as EmbeddingsResponse;
    } catch {
      throw fail(`the response is not JSON: ${JSON.stringify(text.slice(0, 100))}`);
    }
    if (!json || !Array.isArray(json.data)) throw fail('the response has no `data` array');
    if (json.data.length !== texts.length) throw fail(`${json.data.length} embeddings for ${texts.length} inputs`);
    const out: (Float32Array | undefined)[] = new Array(texts.length);
    json.data.forEach((d, i) => {
      const at = d?.index === undefined ? i : d.index;
      if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= texts.length || out[at]) {
        throw fail(`data[${i}].index is ${JSON.stringify(d?.index)}: not a distinct index below ${texts.length}`);
      }
      const e = d.embedding;
      if (typeof e === 'string') throw fail(`data[${i}].embedding is base64; this client asks for encoding_format "float"`);
      if (!Array.isArray(e) || e.length === 0) throw fail(`data[${i}].embedding is not a non-empty array of numbers`);
      if (dims !== undefined && e.length !== dims) throw fail(`data[${i}].embedding has ${e.length} dimensions, expected ${dims}`);
      const v = new Float32Array(e.length);
      for (let j = 0; j < e.length; j++) {
        const x = e[j];
        if (typeof x !== 'number' || !Number.isFinite(x)) throw fail(`data[${i}].embedding[${j}] is not a finite number`);
        v[j] = x;
      }
      out[at] = v;
    });
    const first = out[0]!.length;
    if (out.some((v) => v!.length !== first)) throw fail('the embeddings have different lengths');
    return out as Float32Array[];
  }

  return {
    id: `remote:${options.model}${dims ? `:${dims}` : ''}`,
    dimensions: dims,
    defaultThreshold: options.defaultThreshold,
    async embed(texts, opts = {}) {
      if (!Array.isArray(texts)) throw new SemcacheError('INVALID_ARGUMENT', 'embed() takes an array of strings');
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await request(texts.slice(i, i + batchSize), opts.signal)));
      return out;
    },
  };
}
