// An OPFS cache's exact repeats answered on its page (OpfsCacheOptions.exactOnPage): the memo
// (js/exact-memo.ts) with what feeds it on a page: the worker's announcements, the page's
// lifecycle, and the notes that tell the worker of the hits it did not see.
import type { GetHit, GetOptions } from './api.js';
import type { OpfsCacheOptions } from './api-opfs.js';
import { SemcacheError, throwIfAborted } from './errors.js';
import { ExactMemo, type ExactMemoLimits, type MemoChange, type MemoStamp } from './exact-memo.js';
import { scopeKey } from './scope.js';
import { checkPrompt } from './validate.js';
import { changesChannel, type WireExactHit } from './workers/opfs-protocol.js';

/** OpfsCacheOptions.exactOnPage's defaults. */
export const DEFAULT_EXACT_ON_PAGE: ExactMemoLimits = { maxEntries: 1000, maxBytes: 4 << 20 };

/** OpfsCacheOptions.exactOnPage resolved: its limits, or undefined (off). */
export function exactOnPageLimits(v: OpfsCacheOptions['exactOnPage']): ExactMemoLimits | undefined {
  return pageLimits('exactOnPage', v, DEFAULT_EXACT_ON_PAGE);
}

/** An option of what a page keeps (true, false or { maxEntries, maxBytes }) resolved: its limits
 * over `defaults`, or undefined (off, or a limit of 0). */
export function pageLimits(name: string, v: boolean | { maxEntries?: number; maxBytes?: number } | undefined, defaults: ExactMemoLimits): ExactMemoLimits | undefined {
  if (v === false) return undefined;
  if (v === undefined || v === true) return defaults;
  if (!v || typeof v !== 'object') throw new SemcacheError('INVALID_ARGUMENT', `${name} must be true, false or { maxEntries, maxBytes }, got ${String(v)}`);
  const limits = { ...defaults, ...v };
  for (const k of ['maxEntries', 'maxBytes'] as const) {
    if (!(Number.isInteger(limits[k]) && limits[k] >= 0)) throw new SemcacheError('INVALID_ARGUMENT', `${name}.${k} must be a non-negative integer, got ${String(limits[k])}`);
  }
  return limits.maxEntries > 0 && limits.maxBytes > 0 ? limits : undefined;
}

export class PageExact {
  private readonly memo: ExactMemo;
  private readonly changes: BroadcastChannel;
  /** Hits answered here that the worker has not heard of yet. */
  private notes: WireExactHit[] = [];
  private closed = false;
  private readonly onResume = () => this.memo.reset();
  private readonly onPageShow = (e: PageTransitionEvent) => e.persisted && this.memo.reset();

  constructor(
    name: string,
    limits: ExactMemoLimits,
    /** The worker's exact key of a prompt (normalizePrompt, or the prompt itself). */
    form: (prompt: string) => string,
    /** The cache's default scope. */
    private readonly defaultScope: GetOptions['scope'],
    private readonly maxPromptChars: number,
    /** Sends notes of hits to the worker (exactHits). */
    private readonly send: (hits: WireExactHit[]) => void,
  ) {
    this.memo = new ExactMemo(limits, form);
    this.changes = new BroadcastChannel(changesChannel(name));
    this.changes.onmessage = (e: MessageEvent<MemoChange>) => this.memo.change(e.data);
    // Frozen, or kept in the back/forward cache: announcements may have been missed.
    if (typeof document !== 'undefined') document.addEventListener('resume', this.onResume);
    if (typeof window !== 'undefined') window.addEventListener('pageshow', this.onPageShow);
  }

  /** The memo's key of a prompt in a scope (undefined: the cache's default). */
  keyOf(prompt: string, scope: GetOptions['scope']): string {
    return this.memo.keyOf(scopeKey(scope === undefined ? this.defaultScope : scope), prompt);
  }

  /** The hit for an exact repeat this page knows (the prompt checked as any); the worker hears
   * of it soon after. Nothing after close(). */
  answer(prompt: string, options: GetOptions, t0: number): GetHit | undefined {
    checkPrompt(prompt, this.maxPromptChars);
    throwIfAborted(options.signal);
    if (this.closed) return undefined;
    const hit = this.memo.get(this.keyOf(prompt, options.scope));
    if (!hit) return undefined;
    if (this.notes.push({ prompt, scope: options.scope }) === 1) setTimeout(() => this.flush(), 0);
    hit.timings.totalMs = performance.now() - t0;
    return hit;
  }

  /** Read before a call whose reply may be learned from. */
  get generation(): number {
    return this.memo.generation;
  }

  /** Before a put: a repeat asked meanwhile goes to the worker. */
  beforePut(prompt: string, scope: GetOptions['scope']): { key: string; generation: number } {
    const key = this.keyOf(prompt, scope);
    this.memo.forgetKey(key);
    return { key, generation: this.memo.generation };
  }

  afterPut(put: { key: string; generation: number }, hit: { id: number; answer: string; matchedPrompt: string; metadata?: unknown }, stamp: MemoStamp): void {
    // the metadata as the worker keeps it (JSON), as a read would give it back
    const metadata = hit.metadata === undefined ? undefined : JSON.parse(JSON.stringify(hit.metadata));
    if (!this.closed) this.memo.learn(put.key, { ...hit, metadata }, stamp, put.generation);
  }

  /** A get's exact hit (its metadata copied: the caller gets the reply's object). */
  learn(key: string, hit: { id: number; answer: string; matchedPrompt: string; metadata?: unknown }, stamp: MemoStamp, generation: number): void {
    const metadata = hit.metadata === undefined ? undefined : structuredClone(hit.metadata);
    if (!this.closed) this.memo.learn(key, { ...hit, metadata }, stamp, generation);
  }

  forgetId(id: number): void {
    this.memo.forgetId(id);
  }

  /** clear(): every answer, or one scope's (`scope` given, undefined being the default scope). */
  clear(options: { scope?: GetOptions['scope'] }): void {
    if (!('scope' in options)) this.memo.clear();
    else this.memo.forgetScope(scopeKey(options.scope === undefined ? this.defaultScope : options.scope));
  }

  /** Sends the pending notes: before any other call, so that a stats() after hits counts them. */
  flush(): void {
    if (this.notes.length) this.send(this.notes.splice(0));
  }

  close(): void {
    this.closed = true;
    this.changes.close();
    if (typeof document !== 'undefined') document.removeEventListener('resume', this.onResume);
    if (typeof window !== 'undefined') window.removeEventListener('pageshow', this.onPageShow);
    this.memo.clear();
  }
}
