// getOrCompute's contract, one implementation for the in-process cache and the OPFS proxy: look
// up; on a miss run compute and store its answer. A cache failure never fails the call: compute
// still answers, and the failure is reported in `cacheError` and to `onCacheError`.
import type { ComputeFunction, ComputeResult, GetOrComputeOptions } from './api.js';
import type { SemcacheError } from './errors.js';
import { joinedAnswer, type Joined, type Leader } from './flights.js';

type Hit = { answer: string; similarity: number; id: number };

export interface ComputeSteps<K> {
  /** A hit, or what `store` needs after a miss (the vector already computed, the scope…), with
   * the similar miss in flight it joined or its own flight (see cache.begin). */
  lookup(): Promise<{ hit: Hit } | { miss: K; lead?: Leader; join?: Joined }>;
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
  let miss: { key: K; lead?: Leader; join?: Joined } | undefined;
  try {
    const r = await steps.lookup();
    if ('hit' in r) return { answer: r.hit.answer, hit: true, similarity: r.hit.similarity, id: r.hit.id };
    miss = { key: r.miss, lead: r.lead, join: r.join };
  } catch (e) {
    if ((e as SemcacheError)?.code === 'ABORTED') throw e;
    report(e);
  }
  if (miss?.join) {
    // a similar prompt's compute is running: its answer is this one's (or, if it fails, compute)
    const end = await joinedAnswer(miss.join);
    if (!('failed' in end)) return { answer: end.answer, hit: true, similarity: miss.join.similarity, id: end.id, joined: true };
  }
  const lead = miss?.lead;
  let answer: string;
  try {
    answer = await compute(prompt, { signal: options.signal });
  } catch (e) {
    lead?.fail(`compute failed: ${(e as Error)?.message ?? e}`);
    throw e;
  }
  let id: number | null = null;
  if (miss) {
    try {
      if (lead && typeof answer === 'string') id = (await lead.done(answer)).id;
      else {
        lead?.fail('compute returned no string');
        id = await steps.store(answer, miss.key);
      }
    } catch (e) {
      report(e);
    }
  }
  return cacheError ? { answer, hit: false, similarity: null, id, cacheError } : { answer, hit: false, similarity: null, id };
}
