// getOrCompute's contract, one implementation for the in-process cache and the OPFS proxy: look
// up here; on a miss ask the next tier (tiers.ts) when the scope is shared, copying its hit here;
// on a miss everywhere run compute and store its answer in every tier the scope allows. A cache
// failure never fails the call: compute still answers, and the failure is reported in
// `cacheError` and to `onCacheError`.
import type { ComputeFunction, ComputeResult, GetOrComputeOptions } from './api.js';
import type { SemcacheError } from './errors.js';
import type { NextSteps } from './tiers.js';

type Hit = { answer: string; similarity: number; id: number; metadata?: unknown };

export interface ComputeSteps<K> {
  /** A hit, or what `store` needs after a miss (the vector already computed, the scope…). */
  lookup(): Promise<{ hit: Hit } | { miss: K }>;
  /** Stores an answer here (compute's, or the next tier's with its metadata); resolves the new entry's id. */
  store(answer: string, miss: K, metadata?: unknown): Promise<number>;
  /** The Error to report for a caught cache failure (and a place to count it). */
  failure(e: unknown): Error;
  /** The next tier, when this call's scope is shared with one. */
  next?: NextSteps;
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
  const done = (r: Omit<ComputeResult, 'cacheError'>): ComputeResult => (cacheError ? { ...r, cacheError } : r);
  let miss: { key: K } | undefined;
  try {
    const r = await steps.lookup();
    if ('hit' in r) return { answer: r.hit.answer, hit: true, similarity: r.hit.similarity, id: r.hit.id, tier: 'local' };
    miss = { key: r.miss };
  } catch (e) {
    rethrowAbort(e);
    report(e);
  }
  if (steps.next) {
    try {
      const r = await steps.next.get();
      if (r.hit) {
        let id: number | null = null;
        if (miss) id = await steps.store(r.answer, miss.key, r.metadata).catch((e: unknown) => (report(e), null));
        return done({ answer: r.answer, hit: true, similarity: r.similarity, id, tier: 'next' });
      }
    } catch (e) {
      rethrowAbort(e);
      report(e);
    }
  }
  const answer = await compute(prompt, { signal: options.signal });
  let id: number | null = null;
  await Promise.all([
    miss && steps.store(answer, miss.key).then((i) => (id = i), report),
    steps.next?.put?.(answer).catch(report),
  ]);
  return done({ answer, hit: false, similarity: null, id, tier: 'compute' });
}

/** The caller's abort ends the call; other failures before compute fall through to it. */
function rethrowAbort(e: unknown) {
  if ((e as SemcacheError)?.code === 'ABORTED') throw e;
}
