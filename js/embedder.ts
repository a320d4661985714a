import { SemcacheError } from './errors.js';
import { describe } from './validate.js';

/** A user function: texts in, one vector per text out. */
export type EmbedFunction = (
  texts: string[],
  options?: { signal?: AbortSignal },
) => Promise<ArrayLike<number>[]> | ArrayLike<number>[];

/** An embedder object (e.g. OnnxEmbedder). */
export interface Embedder {
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<ArrayLike<number>[]>;
  /** Output dimensions, when known without running the model. */
  readonly dimensions?: number;
  /** Identifies the model: a cache's rows are only valid for the embedder that made them. */
  readonly id?: string;
  /** The cosine threshold this model was calibrated for (used when the cache sets none). */
  readonly defaultThreshold?: number;
  dispose?(): void | Promise<void>;
}

export function toEmbedder(e: Embedder | EmbedFunction, id?: string): Embedder {
  if (typeof e === 'function') {
    return {
      embed: async (texts, options) => e(texts, options),
      id: id ?? 'function',
    };
  }
  if (!e || typeof e !== 'object' || typeof (e as Embedder).embed !== 'function') {
    throw new SemcacheError('INVALID_ARGUMENT', `embedder must be a function or an object with embed(), got ${describe(e)}`);
  }
  return e;
}
