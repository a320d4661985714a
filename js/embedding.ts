// Prompt -> vector, one implementation for the in-process cache and the OPFS proxy: the caller's
// own vector (checked) or one embedder call on the prompt's normalized form, whose failures surface as EMBEDDER_FAILED and whose
// output is checked (one vector, the cache's length, finite, not zero).
import type { CallOptions } from './api.js';
import { toEmbedder, type EmbedFunction, type Embedder } from './embedder.js';
import { SemcacheError, throwIfAborted } from './errors.js';
import { promptNormalizer } from './prompt-form.js';
import { checkVector } from './validate.js';
import type { SemcacheCoreModule } from './wasm/semcache_core.mjs';

/** The `embedder` option, required, as an Embedder. */
export function embedderOf(options: { embedder?: Embedder | EmbedFunction }): Embedder {
  if (options.embedder === undefined) throw new SemcacheError('INVALID_ARGUMENT', 'options.embedder is required');
  return toEmbedder(options.embedder);
}

/** The text form prompts are embedded in: the core's normalizePrompt (ASCII in JS: prompt-form.ts)
 * unless `normalize: false`. */
export function normalizerOf(options: { normalize?: boolean }, m: Pick<SemcacheCoreModule, 'normalizePrompt'>): ((prompt: string) => string) | undefined {
  if (options.normalize !== undefined && typeof options.normalize !== 'boolean') {
    throw new SemcacheError('INVALID_ARGUMENT', `normalize must be true or false, got ${String(options.normalize)}`);
  }
  return options.normalize === false ? undefined : promptNormalizer(m);
}

/** The vector length: the `dimensions` option, else the embedder's, else one probe embedding. */
export async function resolveDimensions(dimensions: number | undefined, embedder: Embedder): Promise<number> {
  const d = dimensions ?? embedder.dimensions ?? (await probeDimensions(embedder));
  if (!Number.isInteger(d) || d < 1 || d > 65536) {
    throw new SemcacheError('INVALID_ARGUMENT', `dimensions must be an integer in 1..65536, got ${d}`);
  }
  return d;
}

async function probeDimensions(embedder: Embedder): Promise<number> {
  let out: ArrayLike<number>[];
  try {
    out = await embedder.embed(['dimension probe']);
  } catch (e) {
    throw new SemcacheError('EMBEDDER_FAILED', `the embedder failed on a probe text: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  const v = Array.isArray(out) ? out[0] : undefined;
  if (!v || typeof v.length !== 'number' || v.length < 1) {
    throw new SemcacheError('EMBEDDER_FAILED', 'the embedder returned no vector for a probe text: pass `dimensions`');
  }
  return v.length;
}

/** Embeds prompts for one cache and counts the embedder's calls and time (for stats()). */
export class Embedding {
  calls = 0;
  ms = 0;

  constructor(
    readonly embedder: Embedder,
    readonly dimensions: number,
    /** What the embedder is given instead of the prompt (the core's normalizePrompt), if anything. */
    private readonly normalize?: (prompt: string) => string,
  ) {}

  /** The text the embedder is given for a prompt (and the exact-match key's text). */
  form(prompt: string): string {
    return this.normalize ? this.normalize(prompt) : prompt;
  }

  /** options.vector when given (checked; possibly the caller's own array), else one embedding. */
  vectorOf(prompt: string, options: Pick<CallOptions, 'vector' | 'signal'>): Promise<Float32Array> {
    if (options.vector === undefined) return this.embedOne(prompt, options.signal);
    throwIfAborted(options.signal);
    return Promise.resolve(checkVector(options.vector, this.dimensions, 'options.vector'));
  }

  private async embedOne(prompt: string, signal?: AbortSignal): Promise<Float32Array> {
    throwIfAborted(signal);
    const t = performance.now();
    let out: ArrayLike<number>[];
    try {
      out = await this.embedder.embed([this.form(prompt)], { signal });
    } catch (e) {
      if (signal?.aborted) throwIfAborted(signal);
      if (e instanceof SemcacheError) throw e;
      throw new SemcacheError('EMBEDDER_FAILED', `the embedder failed: ${(e as Error)?.message ?? e}`, { cause: e });
    } finally {
      this.ms += performance.now() - t;
      this.calls++;
    }
    throwIfAborted(signal);
    if (!Array.isArray(out) || out.length !== 1) {
      throw new SemcacheError('EMBEDDER_FAILED', `the embedder returned ${Array.isArray(out) ? out.length : typeof out} vectors for 1 text`);
    }
    return checkVector(out[0], this.dimensions, 'the embedding');
  }
}
