// getOrCompute's contract, one implementation for the in-process cache and the OPFS proxy: look
// up here; on a miss join a similar miss in flight, or else ask the next tier (tiers.ts) when the
// scope is shared, copying its hit here; on a miss everywhere run compute and store its answer in
// every tier the scope allows. A cache failure never fails the call: compute still answers, and
// the failure is reported in `cacheError` and to `onCacheError`.
import type { ComputeFunction, ComputeResult, GetOrComputeOptions } from './api.js';
import type { SemcacheError } from './errors.js';
import { joinedAnswer, type Joined, type Leader } from './flights.js';
import type { NextSteps } from './tiers.js';

type Hit = { answer: string; similarity: number; id: number; metadata?: unknown };

export interface ComputeSteps<K> {
  /** A hit, or what `store` needs after a miss (the vector already computed, the scope…), with
   * the similar miss in flight it joined or its own flight (see cache.begin). */
  lookup(): Promise<{ hit: Hit } | { miss: K; lead?: Leader; join?: Joined }>;
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
  let miss: { key: K; lead?: Leader; join?: Joined } | undefined;
  try {
    const r = await steps.lookup();
    if ('hit' in r) return { answer: r.hit.answer, hit: true, similarity: r.hit.similarity, id: r.hit.id, tier: 'local' };
    miss = { key: r.miss, lead: r.lead, join: r.join };
  } catch (e) {
    rethrowAbort(e);
    report(e);
  }
  if (miss?.join) {
    // a similar prompt's call is running here: its answer is this one's (or, if it fails, compute)
    const end = await joinedAnswer(miss.join);
    if (!('failed' in end)) return done({ answer: end.answer, hit: true, similarity: miss.join.similarity, id: end.id, joined: true, tier: 'local' });
  }
  const lead = miss?.lead;
  /** Stores an answer here: through this call's flight (answering the calls that joined it). */
  const storeHere = async (answer: string, metadata?: unknown): Promise<number | null> => {
    if (!miss) return null;
    try {
      if (lead && typeof answer === 'string') return (await lead.done(answer, metadata === undefined ? {} : { metadata })).id;
      lead?.fail('compute returned no string');
      return await steps.store(answer, miss.key, metadata);
    } catch (e) {
      rethrowAbort(e);
      report(e);
      return null;
    }
  };
  if (steps.next) {
    try {
      const r = await steps.next.get();
      if (r.hit) return done({ answer: r.answer, hit: true, similarity: r.similarity, id: await storeHere(r.answer, r.metadata), tier: 'next' });
    } catch (e) {
      if (isAbort(e)) lead?.fail('the call was aborted');
      rethrowAbort(e);
      report(e);
    }
  }
  let answer: string;
  try {
    answer = await compute(prompt, { signal: options.signal });
  } catch (e) {
    lead?.fail(`compute failed: ${(e as Error)?.message ?? e}`);
    throw e;
  }
  const [id] = await Promise.all([
    storeHere(answer),
    typeof answer === 'string' ? steps.next?.put?.(answer).catch(report) : undefined,
  ]);
  return done({ answer, hit: false, similarity: null, id, tier: 'compute' });
}

function isAbort(e: unknown): boolean {
  return (e as SemcacheError)?.code === 'ABORTED';
}

/** The caller's abort ends the call; other failures before compute fall through to it. */
function rethrowAbort(e: unknown) {
  if (isAbort(e)) throw e;
}
