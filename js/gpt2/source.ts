// Where GPT-2's files come from: a base URL in the Hugging Face layout
// (https://huggingface.co/openai-community/gpt2/resolve/main → config.json, model.safetensors,
// vocab.json, merges.txt) or bytes/strings the caller already has.
import { SemcacheError, abortError } from '../errors.js';

export type Gpt2Source =
  | {
      /** Base URL; file names are appended (`${url}/config.json`). */
      url: string;
      /** Other file names or absolute URLs, e.g. { encoder: '/tok/encoder.json', merges: '/tok/vocab.bpe' }. */
      files?: { config?: string; weights?: string; encoder?: string; merges?: string };
    }
  | {
      weights: Uint8Array | ArrayBuffer;
      /** config.json as text or parsed. */
      config: string | object;
      /** encoder.json / vocab.json text. */
      encoderJson: string;
      /** vocab.bpe / merges.txt text. */
      vocabBpe: string;
    };

export interface Gpt2Progress {
  file: 'config' | 'weights' | 'encoder' | 'merges';
  url: string;
  loaded: number;
  /** From Content-Length; null when the server does not send it. */
  total: number | null;
}

/** Where a download of known size is written (e.g. wasm memory, re-read on every write since it may grow). */
export interface ByteSink {
  set(chunk: Uint8Array, offset: number): void;
  bytes(): Uint8Array;
}

export interface Gpt2Files {
  weights: Uint8Array;
  config: string;
  encoderJson: string;
  vocabBpe: string;
}

function resolve(base: string, name: string): string {
  if (/^[a-z]+:/i.test(name) || name.startsWith('/')) return new URL(name, base.endsWith('/') ? base : base + '/').href;
  return base.replace(/\/+$/, '') + '/' + name;
}

/** Fetches one file, reporting progress as the body streams in. */
export async function fetchBytes(
  url: string,
  onChunk: (loaded: number, total: number | null) => void,
  signal?: AbortSignal,
  alloc?: (size: number) => ByteSink,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw new SemcacheError('FETCH_FAILED', `could not fetch ${url}: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  if (!res.ok) throw new SemcacheError('FETCH_FAILED', `could not fetch ${url}: HTTP ${res.status}`);
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    onChunk(buf.length, total ?? buf.length);
    return buf;
  }
  // one buffer when the size is known (a 500 MB checkpoint should not be held twice); `alloc`
  // lets the caller place it, e.g. straight into wasm memory
  const sink = total !== null && alloc ? alloc(total) : undefined;
  let buf = new Uint8Array(sink ? 0 : (total ?? 1 << 20));
  let loaded = 0;
  const reader = res.body.getReader();
  onChunk(0, total);
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw new SemcacheError('FETCH_FAILED', `reading ${url} failed after ${loaded} bytes: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    if (chunk.done) break;
    const c = chunk.value;
    if (total !== null && loaded + c.length > total)
      throw new SemcacheError('FETCH_FAILED', `${url} sent more than its Content-Length (${total})`);
    if (sink) {
      sink.set(c, loaded);
      loaded += c.length;
      onChunk(loaded, total);
      continue;
    }
    if (loaded + c.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, loaded + c.length));
      bigger.set(buf.subarray(0, loaded));
      buf = bigger;
    }
    buf.set(c, loaded);
    loaded += c.length;
    onChunk(loaded, total);
  }
  if (total !== null && loaded !== total)
    throw new SemcacheError('FETCH_FAILED', `${url} ended after ${loaded} of ${total} bytes`);
  if (sink) return sink.bytes();
  return loaded === buf.length ? buf : buf.slice(0, loaded);
}

/** `allocWeights` places model.safetensors when its size is known (see fetchBytes). */
export async function loadGpt2Files(
  source: Gpt2Source,
  onProgress?: (p: Gpt2Progress) => void,
  signal?: AbortSignal,
  allocWeights?: (size: number) => ByteSink,
): Promise<Gpt2Files> {
  if (!source || typeof source !== 'object') throw new SemcacheError('INVALID_ARGUMENT', 'a GPT-2 source is { url } or { weights, config, encoderJson, vocabBpe }');
  if ('weights' in source) {
    const { weights, config, encoderJson, vocabBpe } = source;
    if (typeof encoderJson !== 'string' || typeof vocabBpe !== 'string')
      throw new SemcacheError('INVALID_ARGUMENT', 'encoderJson and vocabBpe must be strings (the files\' text)');
    return {
      weights: weights instanceof Uint8Array ? weights : new Uint8Array(weights),
      config: typeof config === 'string' ? config : JSON.stringify(config),
      encoderJson,
      vocabBpe,
    };
  }
  if (typeof source.url !== 'string' || !source.url) throw new SemcacheError('INVALID_ARGUMENT', 'source.url must be a non-empty string');
  const f = source.files ?? {};
  const urls = {
    config: resolve(source.url, f.config ?? 'config.json'),
    weights: resolve(source.url, f.weights ?? 'model.safetensors'),
    encoder: resolve(source.url, f.encoder ?? 'vocab.json'),
    merges: resolve(source.url, f.merges ?? 'merges.txt'),
  };
  const get = (file: Gpt2Progress['file']) =>
    fetchBytes(
      urls[file],
      (loaded, total) => onProgress?.({ file, url: urls[file], loaded, total }),
      signal,
      file === 'weights' ? allocWeights : undefined,
    );
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  // small files first: a wrong URL fails before the large download starts
  const config = text(await get('config'));
  const [encoderJson, vocabBpe] = (await Promise.all([get('encoder'), get('merges')])).map(text) as [string, string];
  const weights = await get('weights');
  return { weights, config, encoderJson, vocabBpe };
}
