// A cache backed by another (GPTCache's next_cache, across the network boundary): a local miss
// asks `next`, a hit there is answered and copied here, a miss everywhere is computed and written
// to every tier the scope allows. One implementation for the in-process cache and the OPFS proxy
// (the proxy runs it on the page: `next` is an object of the page's, e.g. a remoteCache).
//
// Per scope: 'private' never leaves this cache (neither the prompt nor the answer), 'shared' is
// looked up in `next` and written through to it when it takes writes. Failures of `next` never
// fail a call: a lookup becomes a miss and a write is skipped, both with `cacheError`.
import type { GetHit, GetMiss, GetOptions, GetResult, NextCache, PutOptions, SharePolicy } from './api.js';
import { SemcacheError } from './errors.js';
import type { BeginResult, Leader } from './flights.js';
import type { ScopeInput } from './scope.js';

/** What getOrCompute (compute.ts) does with the next tier for one call. */
export interface NextSteps {
  get(): Promise<GetResult>;
  /** Absent when `next` takes no writes. */
  put?(answer: string): Promise<unknown>;
}

export interface TierCounts {
  lookups: number;
  hits: number;
  errors: number;
  writes: number;
}

type Share = SharePolicy | ((scope: ScopeInput) => SharePolicy);

export class Tiers {
  readonly counts: TierCounts = { lookups: 0, hits: 0, errors: 0, writes: 0 };

  private constructor(
    private readonly next: NextCache | undefined,
    private readonly share: Share,
    private readonly defaultScope: ScopeInput,
  ) {}

  /** The tiers of a cache's options (checked). */
  static of(options: { next?: NextCache; share?: Share; scope?: ScopeInput }): Tiers {
    const { next, share = 'shared' } = options;
    if (next !== undefined && (!next || typeof next.get !== 'function' || (next.put !== undefined && typeof next.put !== 'function'))) {
      throw new SemcacheError('INVALID_ARGUMENT', 'next must be a cache: an object with get() (and put() when it takes writes), e.g. remoteCache({ url })');
    }
    if (typeof share !== 'function') checkPolicy(share);
    return new Tiers(next, share, options.scope);
  }

  get enabled(): boolean {
    return this.next !== undefined;
  }

  /** Whether a call in this scope may reach `next`. */
  shares(scope: ScopeInput): boolean {
    if (!this.next) return false;
    return checkPolicy(typeof this.share === 'function' ? this.share(this.scopeOf(scope)) : this.share) === 'shared';
  }

  /**
   * After a local miss: `next`'s hit, copied here by `copy` (which resolves the local id), or the
   * local miss, with `cacheError` when `next` failed. `t0` is when the lookup began.
   */
  async afterMiss(prompt: string, options: GetOptions, miss: GetMiss, t0: number, copy: (hit: GetHit) => Promise<number>): Promise<GetResult> {
    if (!this.shares(options.scope)) return miss;
    const tn = performance.now();
    let r: GetResult;
    try {
      r = await this.ask(prompt, options);
    } catch (e) {
      rethrowAbort(e);
      return { ...miss, cacheError: asError(e) };
    }
    const nextMs = performance.now() - tn;
    if (!r.hit) return { ...miss, timings: { ...miss.timings, nextMs, totalMs: performance.now() - t0 } };
    const hit: GetHit = { ...r, tier: 'next', candidates: [], timings: { ...miss.timings, nextMs, totalMs: 0 } };
    delete hit.cacheError;
    try {
      hit.id = await copy(r);
    } catch (e) {
      rethrowAbort(e);
      this.counts.errors++;
      hit.cacheError = asError(e);
    }
    hit.timings.totalMs = performance.now() - t0;
    return hit;
  }

  /**
   * cache.begin's leading miss in a shared scope: `next`'s hit (stored here through the flight,
   * so the calls that joined it get that answer too), or the miss, whose leader's answer is then
   * written through as well as stored here.
   */
  async lead(prompt: string, options: GetOptions, miss: GetMiss & { lead: Leader }, t0: number): Promise<BeginResult> {
    const { lead } = miss;
    let r: GetResult;
    try {
      r = await this.afterMiss(prompt, options, miss, t0, async (hit) => (await lead.done(hit.answer, hit.metadata === undefined ? {} : { metadata: hit.metadata })).id);
    } catch (e) {
      lead.fail('the call was aborted');
      throw e;
    }
    if (r.hit) return r;
    return {
      ...r,
      lead: {
        piece: (text) => lead.piece(text),
        fail: (reason) => lead.fail(reason),
        done: async (answer, o = {}) => {
          const [stored] = await Promise.all([lead.done(answer, o), this.writeThrough(prompt, answer, { scope: options.scope, ...o })]);
          return stored;
        },
      },
    };
  }

  /** The next tier's part of one getOrCompute call, or undefined when the scope stays here. */
  computeSteps(prompt: string, options: PutOptions & GetOptions): NextSteps | undefined {
    if (!this.shares(options.scope)) return undefined;
    const next = this.next!;
    return {
      get: () => this.ask(prompt, options),
      put: next.put ? (answer) => this.write(prompt, answer, options) : undefined,
    };
  }

  /** A put's write-through: undefined when done or not wanted, else the failure (the local put stands). */
  async writeThrough(prompt: string, answer: string, options: PutOptions): Promise<Error | undefined> {
    if (!this.next?.put || !this.shares(options.scope)) return undefined;
    try {
      await this.write(prompt, answer, options);
      return undefined;
    } catch (e) {
      rethrowAbort(e);
      return asError(e);
    }
  }

  private scopeOf(scope: ScopeInput): ScopeInput {
    return scope === undefined ? this.defaultScope : scope;
  }

  private async ask(prompt: string, options: GetOptions): Promise<GetResult> {
    this.counts.lookups++;
    try {
      const r = await this.next!.get(prompt, { scope: this.scopeOf(options.scope), signal: options.signal, ...(options.threshold === undefined ? {} : { threshold: options.threshold }) });
      if (r.hit) this.counts.hits++;
      return r;
    } catch (e) {
      this.counts.errors++;
      throw e;
    }
  }

  private async write(prompt: string, answer: string, options: PutOptions): Promise<void> {
    try {
      await this.next!.put!(prompt, answer, { scope: this.scopeOf(options.scope), ttl: options.ttl, metadata: options.metadata, signal: options.signal });
      this.counts.writes++;
    } catch (e) {
      this.counts.errors++;
      throw e;
    }
  }
}

function checkPolicy(p: unknown): SharePolicy {
  if (p !== 'private' && p !== 'shared') throw new SemcacheError('INVALID_ARGUMENT', `share must be 'private' or 'shared' (or a function of the scope returning one), got ${JSON.stringify(p)}`);
  return p;
}

function rethrowAbort(e: unknown) {
  if ((e as SemcacheError)?.code === 'ABORTED') throw e;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
