// The verifier: a user's second opinion on borderline lookups, run under a time budget. A
// timeout, a throw or anything but `true` is a miss; throws go to onVerifierError.
import type { VerifierOptions } from './api.js';
import { SemcacheError } from './errors.js';

/** Default time budget of one verifier call, ms. */
export const DEFAULT_VERIFIER_TIMEOUT_MS = 2000;

/**
 * A per-call verifier that replaces the cache's (a GetOptions key, internal): the OPFS worker
 * puts one on each lookup from a page that has a verifier, whose function asks that page.
 */
export const CALL_VERIFIER: unique symbol = Symbol('semcache.callVerifier');

export interface VerifierCounts {
  verifierCalls: number;
  verifierErrors: number;
  verifierTimeouts: number;
}

export function checkVerifier(v: VerifierOptions | undefined): void {
  if (v === undefined) return;
  const band = v?.band;
  if (typeof v?.fn !== 'function' || !Array.isArray(band) || band.length !== 2 || !(band[0] <= band[1]) || !band.every(Number.isFinite)) {
    throw new SemcacheError('INVALID_ARGUMENT', 'verifier needs { fn: async (query, cachedPrompt, cachedAnswer) => boolean, band: [lo, hi] } with lo <= hi');
  }
  const t = v.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t < 0)) {
    throw new SemcacheError('INVALID_ARGUMENT', `verifier.timeoutMs must be a finite number >= 0, got ${String(t)}`);
  }
}

export function inBand(v: VerifierOptions, score: number): boolean {
  return score >= v.band[0] && score <= v.band[1];
}

/** The verifier's answer under its time budget: true only for a timely `true`. */
export async function runVerifier(v: VerifierOptions, counts: VerifierCounts, query: string, cachedPrompt: string, cachedAnswer: string): Promise<boolean> {
  counts.verifierCalls++;
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), v.timeoutMs ?? DEFAULT_VERIFIER_TIMEOUT_MS)));
  try {
    const r = await Promise.race([Promise.resolve().then(() => v.fn(query, cachedPrompt, cachedAnswer, { signal: ctl.signal })), timeout]);
    if (r === 'timeout') {
      counts.verifierTimeouts++;
      ctl.abort(new SemcacheError('ABORTED', 'the verifier ran out of time'));
      return false;
    }
    return r === true;
  } catch (e) {
    counts.verifierErrors++;
    reportVerifierError(v, e);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Hands a verifier's throw to onVerifierError; a throwing reporter must not break the lookup. */
export function reportVerifierError(v: Pick<VerifierOptions, 'onVerifierError'>, e: unknown): void {
  try {
    v.onVerifierError?.(e instanceof Error ? e : new Error(String(e)));
  } catch {
    // ignored: see above
  }
}

/** A worker's question to a page's verifier (the OPFS cache's VerifyEvent): true or false, or
 * the error it threw, within its time budget (the worker takes a late verdict as a miss). */
export async function verdictOf(v: VerifierOptions, query: string, cachedPrompt: string, cachedAnswer: string): Promise<boolean | { error: string }> {
  try {
    const signal = AbortSignal.timeout(v.timeoutMs ?? DEFAULT_VERIFIER_TIMEOUT_MS);
    return (await v.fn(query, cachedPrompt, cachedAnswer, { signal })) === true;
  } catch (err) {
    reportVerifierError(v, err);
    return { error: String((err as Error)?.message ?? err) };
  }
}
