// Where GPT-2's files come from: a base URL in the Hugging Face layout
// (https://huggingface.co/openai-community/gpt2/resolve/main → config.json, model.safetensors,
// vocab.json, merges.txt) or bytes/strings the caller already has.
import { SemcacheError } from '../errors.js';
import { fetchBytes, type ByteSink } from '../net.js';

export type { ByteSink } from '../net.js';

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

export interface Gpt2Files {
  weights: Uint8Array;
  /** Where the weights came from (a URL source): a stored download to forget if they are unusable. */
  weightsUrl?: string;
  config: string;
  encoderJson: string;
  vocabBpe: string;
}

function resolve(base: string, name: string): string {
  if (/^[a-z]+:/i.test(name) || name.startsWith('/')) return new URL(name, base.endsWith('/') ? base : base + '/').href;
  return base.replace(/\/+$/, '') + '/' + name;
}

/**
 * `allocWeights` places model.safetensors when its size is known (see net.ts fetchBytes);
 * `cache` keeps downloaded files (net.ts's cache, default true).
 */
export async function loadGpt2Files(
  source: Gpt2Source,
  onProgress?: (p: Gpt2Progress) => void,
  signal?: AbortSignal,
  allocWeights?: (size: number) => ByteSink,
  cache?: boolean,
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
    fetchBytes(urls[file], {
      onProgress: ({ loaded, total }) => onProgress?.({ file, url: urls[file], loaded, total }),
      signal,
      cache,
      alloc: file === 'weights' ? allocWeights : undefined,
      resumable: file === 'weights',
    });
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  // small files first: a wrong URL fails before the large download starts
  const config = text(await get('config'));
  checkConfig(config, urls.config);
  const [encoderJson, vocabBpe] = (await Promise.all([get('encoder'), get('merges')])).map(text) as [string, string];
  const weights = await get('weights');
  return { weights, weightsUrl: urls.weights, config, encoderJson, vocabBpe };
}

/**
 * What can be told from config.json before the weights are downloaded: that it is JSON and
 * describes a GPT-2 (the core checks the rest against the weights).
 */
export function checkConfig(config: string, url: string): void {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(config) as Record<string, unknown>;
  } catch (e) {
    throw new SemcacheError('CORRUPT_MODEL', `${url} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new SemcacheError('CORRUPT_MODEL', `${url} is not a JSON object`);
  const type = c.model_type;
  if (type !== undefined && type !== 'gpt2')
    throw new SemcacheError('UNSUPPORTED_MODEL', `${url} describes a ${JSON.stringify(type)} model, not GPT-2 (model_type must be "gpt2")`);
  for (const k of ['n_embd', 'n_layer', 'n_head', 'vocab_size'])
    if (!Number.isInteger(c[k])) throw new SemcacheError('CORRUPT_MODEL', `${url}: missing or non-integer "${k}" (a GPT-2 config.json has it)`);
}
