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
  /** The evaluator this model was calibrated with: a cache given neither `evaluator` nor
   * `threshold` uses it (the bundled default model: the learned evaluator at 2% false hits). */
  readonly defaultEvaluator?: DefaultEvaluator;
  dispose?(): void | Promise<void>;
}

export interface DefaultEvaluator {
  evaluator: 'learned';
  /** The evaluator model file (URL or bytes). */
  evaluatorModel: string | URL | Uint8Array;
  /** The share of non-duplicate questions allowed to hit, as calibrated. */
  maxFalseHitRate: number;
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

/** Options with the embedder's calibrated evaluator filled in, when the caller chose neither an
 * evaluator nor a threshold (an explicit maxFalseHitRate or evaluatorModel is kept). */
export function withEmbedderDefaults<T extends DefaultEvaluatorOptions>(options: T, embedder: Embedder): T {
  const d = embedder.defaultEvaluator;
  if (!d || options.evaluator !== undefined || options.threshold !== undefined) return options;
  return { ...options, evaluator: d.evaluator, evaluatorModel: options.evaluatorModel ?? d.evaluatorModel, maxFalseHitRate: options.maxFalseHitRate ?? d.maxFalseHitRate };
}

interface DefaultEvaluatorOptions {
  evaluator?: string;
  threshold?: number;
  evaluatorModel?: string | URL | Uint8Array;
  maxFalseHitRate?: number;
}
