// getOrCompute's contract, one implementation for the in-process cache and the OPFS proxy: look
// up; on a miss run compute and store its answer. A cache failure never fails the call: compute
// still answers, and the failure is reported in `cacheError` and to `onCacheError`.
import type { ComputeFunction, ComputeResult, GetOrComputeOptions } from './api.js';
import type { SemcacheError } from './errors.js';

type Hit = { answer: string; similarity: number; id: number };

export interface ComputeSteps<K> {
  /** A hit, or what `store` needs after a miss (the vector already computed, the scope…). */
  lookup(): Promise<{ hit: Hit } | { miss: K }>;
  /** Stores compute's answer; resolves with the new entry's id. */
  store(answer: string, miss: K): Promise<number>;
  /** The Error to report for a caught cache failure (and a place to count it). */
  failure(e: unknown): Error;
}

export async function getOrComputeWith<K>(
  prompt: string,
  compute: ComputeFunction,
  options: GetOrComputeOptions,
  steps: ComputeSteps<K>,
): Promise<ComputeResult> {
  let cacheError: Error | undefined;
  const report = (e: unknown) => {
    const err = steps.failure(e);
    cacheError ??= err;
    try {
      options.onCacheError?.(err);
    } catch {
      // a throwing reporter must not break the caller's call either
    }
  };
  let miss: { key: K } | undefined;
  try {
    const r = await steps.lookup();
    if ('hit' in r) return { answer: r.hit.answer, hit: true, similarity: r.hit.similarity, id: r.hit.id };
    miss = { key: r.miss };
  } catch (e) {
    if ((e as SemcacheError)?.code === 'ABORTED') throw e;
    report(e);
  }
  const answer = await compute(prompt, { signal: options.signal });
  let id: number | null = null;
  if (miss) {
    try {
      id = await steps.store(answer, miss.key);
    } catch (e) {
      report(e);
    }
  }
  return cacheError ? { answer, hit: false, similarity: null, id, cacheError } : { answer, hit: false, similarity: null, id };
}
