// Semantic hits decided on the page (OpfsCacheOptions.semanticOnPage): the OPFS cache lives in a
// worker, and the round trip to it (two thread wake-ups and the page's part of a call, 0.5-1.7 ms
// measured: docs/benchmarks.md) is paid on top of the embedding by every lookup. A page that
// embeds keeps a copy of the cache's entries (vectors, prompts, answers) in an in-memory
// SemanticCache of its own, with the same decision options, and answers a hit from it without a
// message; misses still go to the worker, which stays the only writer.
//
// Staying right: the copy is made from every row the store holds after batch `seq` (read between
// two writes), then follows every batch the store takes, streamed by the worker on a
// BroadcastChannel in seq order (opfs-changes.ts RowAnnouncer). A gap in the seqs, another
// worker (a new owner tab), a page that was frozen or restored from the back/forward cache: the
// copy is made again, and lookups go to the worker meanwhile. This page's own writes act at once:
// each answers with the store's seq after it, and the copy answers only once it holds that batch
// (OwnWrites). Another tab's changes reach the copy one message later, as if that tab had acted a
// moment later. Hits decided here are counted in the worker's stats and eviction order.
import type { GetHit, GetOptions, SemanticCacheApi, SemanticCacheOptions, SemanticCacheStats } from './api.js';
import type { OpfsCacheOptions } from './api-opfs.js';
import type { Embedding } from './embedding.js';
import { core, SemcacheError, throwIfAborted } from './errors.js';
import { INTERNAL, type CacheInternals, type RowsAt } from './internal.js';
import { pageLimits } from './opfs-exact.js';
import { graphDegreeOf } from './options.js';
import { workerOptions } from './opfs-wire.js';
import type { StoreBatch } from './store.js';
import { MemoryStore } from './stores/memory.js';
import { loadCore } from './wasm.js';
import { rowsChannel, type RowsChange, type WireExactHit, type WirePageHit } from './workers/opfs-protocol.js';

/** Opens a cache in this thread (SemanticCache.open, which the OPFS opener is handed). */
export type OpenHere = (options: SemanticCacheOptions) => Promise<SemanticCacheApi>;

/** What the page index needs of its copy: a SemanticCache in this thread, seen through INTERNAL. */
interface CacheCopy extends SemanticCacheApi {
  readonly [INTERNAL]: CacheInternals;
}

/** Where a worker's store was: its life (epoch) and the seq of its last batch. */
export interface StorePosition {
  epoch: number;
  seq: number;
}

/** This page's writes (put, delete, clear, feedback, import): each answers with the store's
 * position after it, and a copy answers only once it has applied every batch up to the latest
 * of them. A write an older worker acknowledged is in the rows a newer worker's copy is made
 * from (the store had it when that worker opened), so only the newest life's seq counts. A write
 * that failed leaves the position unknown until a lookup sent with no write pending brings the
 * worker's (the copy is not asked meanwhile). */
export class OwnWrites {
  private pending = 0;
  private floor: StorePosition = { epoch: 0, seq: 0 };
  private unknown = false;

  async track<R extends StorePosition>(p: Promise<R>): Promise<R> {
    this.pending++;
    try {
      const r = await p;
      this.raise(r);
      return r;
    } catch (e) {
      this.unknown = true;
      throw e;
    } finally {
      this.pending--;
    }
  }

  /** True while no write of this page is in flight: a reply to a call sent now covers them all. */
  get clean(): boolean {
    return this.pending === 0;
  }

  /** The newest worker life a reply came from. */
  get epoch(): number {
    return this.floor.epoch;
  }

  /** A worker's reply with its position, to a call sent when `clean` was `sentClean`. */
  saw(at: StorePosition, sentClean: boolean): void {
    if (!sentClean) return;
    this.raise(at);
    this.unknown = false;
  }

  /** Whether a copy made under worker life `epoch` and applied up to `seq` has all of this
   * page's writes. */
  covers(epoch: number, seq: number): boolean {
    if (this.pending > 0 || this.unknown || epoch < this.floor.epoch) return false;
    return epoch > this.floor.epoch || seq >= this.floor.seq;
  }

  private raise(at: StorePosition): void {
    if (at.epoch > this.floor.epoch || (at.epoch === this.floor.epoch && at.seq > this.floor.seq)) this.floor = { epoch: at.epoch, seq: at.seq };
  }
}

export interface PageIndexLimits {
  /** The copy is kept while the cache holds at most this many entries. */
  maxEntries: number;
  /** ... and at most this many bytes of prompts and answers (UTF-16). */
  maxBytes: number;
}

/** OpfsCacheOptions.semanticOnPage's defaults. */
export const DEFAULT_SEMANTIC_ON_PAGE: PageIndexLimits = { maxEntries: 10_000, maxBytes: 32 << 20 };

/** OpfsCacheOptions.semanticOnPage resolved: its limits, or undefined (off). On by default when
 * the page embeds; it cannot be when the worker embeds (the page would need the model too). */
export function semanticOnPageLimits(v: OpfsCacheOptions['semanticOnPage'], pageEmbeds: boolean): PageIndexLimits | undefined {
  if (v === false) return undefined;
  if (v !== undefined && !pageEmbeds) {
    throw new SemcacheError('INVALID_ARGUMENT', 'semanticOnPage needs the page to embed (`embedder`); with `workerEmbedder` only the worker has the model');
  }
  return pageEmbeds ? pageLimits('semanticOnPage', v, DEFAULT_SEMANTIC_ON_PAGE) : undefined;
}

/** What the page index asks of the worker (through the owner tab when this tab is not it). */
export interface PageIndexWorker {
  rows(limits: PageIndexLimits): Promise<RowsAt & { epoch: number }>;
  /** Notes of hits decided here (fire and forget). */
  hits(semantic: WirePageHit[], exact: WireExactHit[]): void;
}

export class PageIndex {
  private state: 'loading' | 'ready' | 'off' = 'loading';
  /** Why the copy is off, for stats. */
  reason?: string;
  private epoch = 0;
  private seq = 0;
  /** Batches that came while the rows were being read. */
  private pending: RowsChange[] = [];
  /** Bumped by each reload: a rows reply for an older one is dropped. */
  private generation = 0;
  private semanticNotes: WirePageHit[] = [];
  private exactNotes: WireExactHit[] = [];
  private closed = false;
  private readonly channel: BroadcastChannel;
  private readonly forms: PromptForms;
  private readonly onResume = () => this.reload();
  private readonly onPageShow = (e: PageTransitionEvent) => e.persisted && this.reload();

  constructor(
    name: string,
    private readonly limits: PageIndexLimits,
    /** The copy: a SemanticCache on a memory store, opened with the worker's decision options. */
    private readonly copy: CacheCopy,
    private readonly worker: PageIndexWorker,
    private readonly own: OwnWrites,
    /** A prompt's exact-key form in the copy (the embedding's). */
    form: (prompt: string) => string,
  ) {
    this.forms = new PromptForms(form);
    this.channel = new BroadcastChannel(rowsChannel(name));
    this.channel.onmessage = (e: MessageEvent<RowsChange>) => this.onChange(e.data);
    if (typeof document !== 'undefined') document.addEventListener('resume', this.onResume);
    if (typeof window !== 'undefined') window.addEventListener('pageshow', this.onPageShow);
    this.reload();
  }

  /**
   * Makes the copy for an OPFS cache `o` whose worker reported `worker` (its stats): a cache in
   * this thread on a memory store, with the worker's decision options, this page's embedder (it
   * never embeds: lookups bring their vector) and no limits of its own (the worker's evictions
   * reach it). Resolves the index, or why there is none: another tab may own the worker with
   * other options, and a copy must decide as the worker does.
   */
  static async open(o: OpfsCacheOptions, limits: PageIndexLimits, embedding: Embedding, worker: SemanticCacheStats, openHere: OpenHere, calls: PageIndexWorker, own: OwnWrites): Promise<PageIndex | string> {
    try {
      // No limits here, but the worker's graph degree, which follows its maxEntries.
      const m = await loadCore();
      const index = { ...o.index, M: graphDegreeOf(o, core(() => m.CacheCore.defaults())) };
      const options = { ...workerOptions(o), index, embedder: embedding.embedder, dimensions: embedding.dimensions, store: new MemoryStore(), maxEntries: 0, maxBytes: 0, snapshotEvery: 0 };
      const copy = (await openHere(options)) as CacheCopy;
      const s = await copy.stats();
      if (s.threshold === worker.threshold && s.evaluator === worker.evaluator && s.evaluatorThreshold === worker.evaluatorThreshold) return new PageIndex(o.name, limits, copy, calls, own, (p) => embedding.form(p));
      await copy.close();
      return "the cache's worker decides with other options (another tab opened it)";
    } catch (e) {
      return `the copy could not be made: ${(e as Error)?.message ?? e}`;
    }
  }

  /** 'ready' when hits are decided here; 'off' with `reason` when the cache is past the limits. */
  get status(): { state: 'loading' | 'ready' | 'off'; entries: number; reason?: string } {
    return { state: this.state, entries: this.state === 'ready' ? this.copy[INTERNAL].entries() : 0, ...(this.reason ? { reason: this.reason } : {}) };
  }

  /** Whether the copy answers now: made, and holding every batch of this page's writes. A reply
   * from a newer worker life than the copy's (another tab took over) makes the copy again. */
  private answering(): boolean {
    if (this.state === 'ready' && this.own.epoch > this.epoch) this.reload();
    return this.state === 'ready' && !this.closed && this.own.covers(this.epoch, this.seq);
  }

  /** Whether exact() may find the prompt: the copy answers and holds its form (a prompt that is
   * no string goes on to the copy, whose check names what is wrong with it). Asked first, so that
   * a prompt the copy cannot hold costs no await. */
  mayBeExact(prompt: string): boolean {
    return this.answering() && (typeof prompt !== 'string' || this.forms.has(prompt));
  }

  /** An exact (normalized) repeat's hit on the copy, before anything is embedded; or undefined. */
  async exact(prompt: string, options: GetOptions): Promise<GetHit | undefined> {
    if (!this.mayBeExact(prompt)) return undefined;
    return this.taken(prompt, options, await this.copy[INTERNAL].lookupExact(prompt, { scope: options.scope }));
  }

  /** A hit decided on the copy (the vector is the page's embedding of the prompt, which the page
   * checked), or undefined: a miss here, or no copy now; the worker is then asked. In this turn. */
  lookup(prompt: string, options: GetOptions, vector: Float32Array): GetHit | undefined {
    if (!this.answering()) return undefined;
    throwIfAborted(options.signal);
    // by meaning only: exact() looked the prompt up exactly before it was embedded
    return this.taken(prompt, options, this.copy[INTERNAL].lookupHere(prompt, { scope: options.scope, threshold: options.threshold }, vector));
  }

  /** A hit of the copy as the caller gets it, noted for the worker; undefined if meanwhile a
   * reload began (it may have cleared what was found) or this page wrote. */
  private taken(prompt: string, options: GetOptions, hit: GetHit | undefined): GetHit | undefined {
    if (!hit || !this.answering()) return undefined;
    if (hit.exact) this.exactNotes.push({ prompt, scope: options.scope });
    else this.semanticNotes.push({ id: hit.id, score: hit.score });
    if (this.semanticNotes.length + this.exactNotes.length === 1) setTimeout(() => this.flush(), 0);
    // the copy's row object is the caller's only through a copy, as a read from the store would be
    return { ...hit, metadata: hit.metadata === undefined ? undefined : structuredClone(hit.metadata) };
  }

  /** Sends the pending notes: before any other call, so that a stats() after hits counts them. */
  flush(): void {
    if (!this.semanticNotes.length && !this.exactNotes.length) return;
    this.worker.hits(this.semanticNotes.splice(0), this.exactNotes.splice(0));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.generation++;
    this.channel.close();
    if (typeof document !== 'undefined') document.removeEventListener('resume', this.onResume);
    if (typeof window !== 'undefined') window.removeEventListener('pageshow', this.onPageShow);
    await this.copy.close();
  }

  /** Makes the copy from the worker's rows; lookups go to the worker until it is done. */
  private reload(): void {
    if (this.closed || this.state === 'off') return;
    this.state = 'loading';
    this.pending = [];
    const generation = ++this.generation;
    this.worker.rows(this.limits).then(
      (r) => {
        if (generation !== this.generation || this.closed) return;
        if ('over' in r) return this.off(`the cache holds ${r.over}`);
        this.mirror({ clear: true, put: r.rows });
        this.epoch = r.epoch;
        this.seq = r.seq;
        const later = this.pending.sort((a, b) => a.epoch - b.epoch || a.seq - b.seq);
        this.pending = [];
        this.state = 'ready';
        for (const c of later) if (this.state === 'ready') this.apply(c);
      },
      (e: Error) => {
        if (generation === this.generation) this.off(`its rows could not be read: ${e?.message ?? e}`);
      },
    );
  }

  private onChange(c: RowsChange): void {
    if (this.closed || this.state === 'off') return;
    if (this.state === 'loading') this.pending.push(c);
    else this.apply(c);
  }

  private apply(c: RowsChange): void {
    if (c.epoch < this.epoch || (c.epoch === this.epoch && c.seq <= this.seq)) return;  // an older worker's, or in the rows read
    if (c.epoch !== this.epoch || c.seq !== this.seq + 1) return this.reload();  // a new worker, or a batch missed
    this.seq = c.seq;
    try {
      this.mirror(c.batch);
    } catch (e) {
      return this.off(`a change could not be applied: ${(e as Error)?.message ?? e}`);
    }
    if (this.copy[INTERNAL].entries() > this.limits.maxEntries) this.off(`the cache grew past ${this.limits.maxEntries} entries`);
  }

  /** For the rest of this page's life: the worker decides every lookup. */
  private off(reason: string): void {
    this.state = 'off';
    this.reason = reason;
    this.pending = [];
    this.mirror({ clear: true });
  }

  private mirror(batch: StoreBatch): void {
    this.forms.apply(batch);
    this.copy[INTERNAL].mirror(batch);
  }
}

/** The copy's prompts in their exact-key form: a prompt whose form is not among them is no exact
 * repeat, and the copy's core is not asked (after an idle moment that call alone cost ~0.2 ms of
 * a page hit). It may only err towards asking: a form left by an entry that expired in the copy
 * costs that call, and the core decides. */
class PromptForms {
  private readonly byId = new Map<number, string>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly form: (prompt: string) => string) {}

  has(prompt: string): boolean {
    return this.counts.has(this.form(prompt));
  }

  /** A batch as the copy applies it: clear, then deletes, then puts (replacing their ids). */
  apply(batch: StoreBatch): void {
    if (batch.clear) this.byId.clear(), this.counts.clear();
    for (const id of batch.delete ?? []) this.remove(id);
    for (const row of batch.put ?? []) {
      this.remove(row.id);
      const f = this.form(row.prompt);
      this.byId.set(row.id, f);
      this.counts.set(f, (this.counts.get(f) ?? 0) + 1);
    }
  }

  private remove(id: number): void {
    const f = this.byId.get(id);
    if (f === undefined) return;
    this.byId.delete(id);
    const n = this.counts.get(f)! - 1;
    if (n) this.counts.set(f, n);
    else this.counts.delete(f);
  }
}
