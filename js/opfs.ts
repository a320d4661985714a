// SemanticCache.open({storage: 'opfs', name}) on a page: the cache (wasm core + SQLite on OPFS)
// runs in a dedicated worker (workers/opfs-worker.ts); this object is its proxy. Both sides speak
// js/rpc.ts with the verbs of workers/opfs-protocol.ts.
//
// Several tabs: opfs-sahpool holds its files exclusively, so one tab per cache name owns the
// worker. Ownership is a Web Lock; every other tab sends its calls to the owner (js/tabs.ts),
// which runs them in its worker and answers. When the owner closes (or its tab goes away, which
// releases the lock), the next tab queued on the lock starts a worker and announces itself;
// callers then resend what was unanswered (the owner drops duplicates it already ran).
//
// Embedding runs on the calling page with the page's embedder (`embedder`: js/embedding.ts, as
// in-process), and calls carry the vector to the worker; or in the worker (`workerEmbedder`: the
// worker loads the model), and calls carry the prompt only: a lookup is then one round trip and
// an exact repeat embeds nothing (docs/persistence.md says which measured faster). The verifier
// runs here: the worker asks for it with an event of the lookup (VerifyEvent), and
// getOrCompute's compute runs here. Exact repeats are answered on this page (js/opfs-exact.ts);
// so are semantic hits when this page embeds, from its copy of the entries (js/opfs-page-index.ts).
import type {
  ClearOptions,
  ComputeFunction,
  ComputeResult,
  EntriesOptions,
  EntryInfo,
  ExportOptions,
  FeedbackResult,
  GetOptions,
  GetOrComputeOptions,
  GetResult,
  ImportOptions,
  ImportResult,
  ImportSource,
  PutOptions,
  PutResult,
  SemanticCacheStats,
} from './api.js';
import type { OpfsCache, OpfsCacheOptions } from './api-opfs.js';
import { getOrComputeWith } from './compute.js';
import { withEmbedderDefaults } from './embedder.js';
import { Embedding, embedderOf, normalizerOf, resolveDimensions } from './embedding.js';
import { SemcacheError, throwIfAborted } from './errors.js';
import { exactOnPageLimits, PageExact } from './opfs-exact.js';
import { OwnWrites, PageIndex, semanticOnPageLimits, type OpenHere, type PageIndexWorker } from './opfs-page-index.js';
import { RpcClient, type RpcArgs, type RpcResult, type RpcCallOptions, type RpcContext, type RpcHandlers } from './rpc.js';
import { TabChannel } from './tabs.js';
import { Tiers } from './tiers.js';
import { exportFilter, exportStream, importInto } from './transfer/transfer.js';
import { checkPrompt, checkVector, DEFAULT_MAX_PROMPT_CHARS } from './validate.js';
import { verdictOf } from './verifier.js';
import { loadCore } from './wasm.js';
import { checkOpfsOptions, DEFAULT_STORAGE_SHARE, wireEmbedder, workerOptions } from './opfs-wire.js';
import {
  RELAYED_VERBS,
  type OpfsEvents,
  type OpfsProtocol,
  type RelayedVerb,
  type VerifyEvent,
  type WireGetOptions,
  type Written,
} from './workers/opfs-protocol.js';

type Verb = keyof OpfsProtocol & string;


const value = async <T>(w: Promise<Written<T>>): Promise<T> => (await w).value;  // a write's (its seq: OwnWrites)

/** Owner-side failures after which a call is worth sending again to the next owner. */
const RETRY_ON = ['CLOSED', 'WORKER_DIED'] as const;

export class OpfsSemanticCache implements OpfsCache {
  private _threshold = 0;
  private readonly tabs: TabChannel;
  /** This tab's calls while another tab owns the worker. */
  private readonly remote: RpcClient<OpfsProtocol, OpfsEvents>;
  private readonly lockAbort = new AbortController();
  private owner = false;
  private closing = false;
  private closed = false;
  private worker?: Worker;
  private rpc?: RpcClient<OpfsProtocol, OpfsEvents>;
  private ready?: Promise<unknown>;
  private release?: () => void;
  private readonly tiers: Tiers;
  /** The vector length and the embedder's id: the page's, or (workerEmbedder) the worker's. */
  private dims: number;
  private embedderId: string;
  /** Exact repeats answered on this page (exactOnPage). */
  private exact?: PageExact;
  /** Semantic hits decided on this page, on its copy of the entries (semanticOnPage); or why not. */
  private pageIndex?: PageIndex;
  private pageIndexOff?: string;
  /** This page's writes, which its copy of the entries must have before it answers. */
  private readonly own = new OwnWrites();


  private constructor(
    private readonly o: OpfsCacheOptions,
    /** The page's embedder; undefined when the worker embeds. */
    private readonly embedding: Embedding | undefined,
  ) {
    this.dims = embedding?.dimensions ?? 0;
    this.embedderId = embedding?.embedder.id ?? 'unnamed';
    this.tiers = Tiers.of(o);
    this.tabs = new TabChannel(`semcache-opfs:${o.name}`, `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
    this.remote = new RpcClient<OpfsProtocol, OpfsEvents>(this.tabs.port, { retryOn: RETRY_ON });
    this.tabs.whenOwnerChanges(() => this.remote.resend());
  }

  /** `openHere` opens a cache in this thread (SemanticCache.open): the page's copy of the entries. */
  static async open(o: OpfsCacheOptions, openHere: OpenHere): Promise<OpfsSemanticCache> {
    checkOpfsOptions(o);
    const limits = exactOnPageLimits(o.exactOnPage);
    const copyLimits = semanticOnPageLimits(o.semanticOnPage, o.workerEmbedder === undefined);
    const core = limits || o.workerEmbedder === undefined ? loadCore() : undefined;  // normalizePrompt here
    // one normalizer (the worker's function) for the memo and the embedding: a prompt's form once
    const normalize = core ? normalizerOf(o, await core) : undefined;
    let embedding: Embedding | undefined;
    if (o.workerEmbedder === undefined) {
      const embedder = embedderOf(o);
      o = withEmbedderDefaults(o, embedder);
      const dimensions = await resolveDimensions(o.dimensions, embedder);
      embedding = new Embedding(embedder, dimensions, normalize);
    } else if (o.embedder !== undefined) {
      throw new SemcacheError('INVALID_ARGUMENT', 'give `embedder` (embed on this page) or `workerEmbedder` (embed in the worker), not both');
    } else if (!o.workerEmbedder || typeof o.workerEmbedder !== 'object') {
      throw new SemcacheError('INVALID_ARGUMENT', 'workerEmbedder must be an options object (OnnxEmbedder.load\'s, as data)');
    }
    const c = new OpfsSemanticCache(o, embedding);
    if (limits) {
      const form = normalize ?? ((p: string) => p);
      const maxChars = o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS;
      c.exact = new PageExact(o.name, limits, form, o.scope, maxChars, (hits) => void c.call('exactHits', [hits]).catch(() => {}));
    }
    // Asked from the page: persist() is not exposed to workers. Its answer shows in stats().
    if (o.persist !== false) await navigator.storage?.persist?.().catch(() => false);
    void navigator.locks.request(`semcache-opfs:${o.name}`, { signal: c.lockAbort.signal }, () => c.becomeOwner()).catch(() => {});
    try {
      const s = await c.call('stats', []);
      if (embedding && s.dimensions !== embedding.dimensions) {
        throw new SemcacheError('STORE_MISMATCH', `the cache '${o.name}' is open with ${s.dimensions}-d vectors in another tab, this page embeds ${embedding.dimensions}-d`);
      }
      c._threshold = s.threshold;
      if (!embedding) (c.dims = s.dimensions), (c.embedderId = s.embedder);
      // Made in the background: lookups go to the worker until the copy is ready.
      const calls: PageIndexWorker = { rows: (l) => c.call('pageRows', [l]), hits: (h, x) => void (h.length && c.call('pageHits', [h]).catch(() => {}), x.length && c.call('exactHits', [x]).catch(() => {})) };
      if (copyLimits && !o.verifier) void PageIndex.open(o, copyLimits, embedding!, s, openHere, calls, c.own).then((r) => void (typeof r === 'string' ? (c.pageIndexOff = r) : c.closed || c.closing ? r.close() : (c.pageIndex = r)));
    } catch (e) {
      await c.close().catch(() => {});
      throw e;
    }
    return c;
  }

  get dimensions(): number {
    return this.dims;
  }

  /** The threshold the worker's cache uses (the owner's options). */
  get threshold(): number {
    return this._threshold;
  }

  get isOwner(): boolean {
    return this.owner;
  }

  /** As SemanticCache.get: an exact repeat this page knows, then the worker, then `next` (from
   * this page) for shared scopes. */
  async get(prompt: string, options: GetOptions = {}): Promise<GetResult> {
    const t0 = performance.now();
    const { r, vector } = await this.find(prompt, options, t0);
    if (r.hit || !this.tiers.enabled) return r;
    return this.tiers.afterMiss(prompt, options, r, t0, async (hit) => (await this.store(prompt, hit.answer, { ...options, metadata: hit.metadata }, vector)).id);
  }

  async put(prompt: string, answer: string, options: PutOptions = {}): Promise<PutResult> {
    const vector = await this.vectorOf(prompt, options);
    const r = await this.store(prompt, answer, options, vector);
    const err = await this.tiers.writeThrough(prompt, answer, options);
    return err ? { ...r, cacheError: err } : r;
  }

  /** As SemanticCache.getOrCompute: compute runs on this page; cache failures never fail the call. */
  async getOrCompute(prompt: string, compute: ComputeFunction, options: GetOrComputeOptions = {}): Promise<ComputeResult> {
    return getOrComputeWith<Float32Array | undefined>(prompt, compute, options, {
      lookup: async () => {
        const { r, vector } = await this.find(prompt, options, performance.now());
        return r.hit ? { hit: r } : { miss: vector };
      },
      store: async (answer, vector, metadata) => (await this.store(prompt, answer, metadata === undefined ? options : { ...options, metadata }, vector)).id,
      failure: (e) => e as Error,
      next: this.tiers.computeSteps(prompt, options),
    });
  }

  export(options: ExportOptions = {}): ReadableStream<Uint8Array> {
    const filter = exportFilter(options);
    return exportStream(this.transferInfo(), { exportOpen: (f) => this.call('exportOpen', [f]), exportNext: (s, n) => this.call('exportNext', [s, n]) }, filter);
  }

  /** As SemanticCache.import: the file is read on this page, its entries go to the worker in batches. */
  import(source: ImportSource, options: ImportOptions = {}): Promise<ImportResult> {
    return importInto(
      source,
      { importBatch: (t, e) => value(this.own.track(this.call('importBatch', [t, e]))), importEnd: (t, commit) => value(this.own.track(this.call('importEnd', [t, commit]))) },
      this.transferInfo(),
      options,
    );
  }

  feedback(id: number, verdict: { correct: boolean }): Promise<FeedbackResult> {
    return value(this.own.track(this.call('feedback', [id, { correct: verdict?.correct }])));
  }

  delete(id: number): Promise<boolean> {
    if (Number.isInteger(id)) this.exact?.forgetId(id);
    return value(this.own.track(this.call('delete', [id])));
  }

  clear(options: ClearOptions = {}): Promise<number> {
    this.exact?.clear(options);
    return value(this.own.track(this.call('clear', [options])));
  }


  entries(options: EntriesOptions = {}): Promise<EntryInfo[]> {
    return this.call('entries', [options]);
  }

  /** The worker's stats, with this page's embeddings in `embedCalls` and `time.embedMs` (each
   * tab embeds for itself). */
  async stats(): Promise<SemanticCacheStats> {
    const s = await this.call('stats', []);
    const next = this.tiers.enabled ? { next: { ...this.tiers.counts } } : {};
    if (!this.embedding) return { ...s, ...next };  // the worker embeds: its counts are the truth
    const onPage = this.pageIndex ? { semanticOnPage: this.pageIndex.status } : this.pageIndexOff ? { semanticOnPage: { state: 'off' as const, entries: 0, reason: this.pageIndexOff } } : {};
    return { ...s, ...next, ...onPage, embedCalls: this.embedding.calls, time: { ...s.time, embedMs: this.embedding.ms } };
  }

  flush(): Promise<void> {
    return this.call('flush', []);
  }

  integrityCheck(): Promise<string> {
    return this.call('integrityCheck', []);
  }

  rowCount(): Promise<number> {
    return this.call('count', []);
  }

  databaseBytes(): Promise<number> {
    return this.call('databaseBytes', []);
  }

  terminateWorker(): void {
    this.rpc?.terminate('the worker was terminated');
  }

  /** The owner flushes, closes the database and hands over to the next tab; others just leave. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.exact?.flush();
    this.pageIndex?.flush();
    this.closing = true;
    this.exact?.close();
    await this.pageIndex?.close().catch(() => {});
    this.tabs.stopServing();
    try {
      if (this.owner && this.rpc) {
        await this.ready?.catch(() => {});
        await this.rpc.call('close', []).catch((e: SemcacheError) => {
          if (e?.code !== 'WORKER_DIED' && e?.code !== 'CLOSED') throw e;
        });
      }
    } finally {
      this.closed = true;
      this.rpc?.terminate('the cache was closed');
      this.lockAbort.abort();
      this.release?.();
      this.remote.fail(new SemcacheError('CLOSED', 'this cache was closed'));
      this.tabs.close();
    }
  }

  // ---- internals ----

  private transferInfo() {
    return { embedder: this.embedderId, dimensions: this.dims };
  }

  private async store(prompt: string, answer: string, options: PutOptions, vector: Float32Array | undefined): Promise<PutResult> {
    const put = this.exact?.beforePut(prompt, options.scope);
    const { memo, seq: _s, epoch: _e, ...r } = await this.own.track(this.call('put', [prompt, answer, { scope: options.scope, ttl: options.ttl, metadata: options.metadata, vector }]));
    if (put && memo) this.exact!.afterPut(put, { id: r.id, answer, matchedPrompt: prompt, metadata: options.metadata }, memo);
    return r;
  }

  /** The prompt's vector (checked as in-process), as a copy of its own: it crosses to the worker.
   * Undefined when the worker embeds and the caller gave none. */
  private async vectorOf(prompt: string, options: GetOptions): Promise<Float32Array | undefined> {
    checkPrompt(prompt, this.o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS);
    if (this.embedding) return (await this.embedding.vectorOf(prompt, options)).slice();
    throwIfAborted(options.signal);
    return options.vector === undefined ? undefined : checkVector(options.vector, this.dims, 'options.vector').slice();
  }

  /** This page's answer (an exact repeat it knows, or a hit decided on its copy), else the
   * worker's; with the prompt's vector (embedded here, or by the worker on its miss). */
  private async find(prompt: string, options: GetOptions, t0: number): Promise<{ r: GetResult; vector?: Float32Array }> {
    const known = this.exact?.answer(prompt, options, t0) ?? (this.pageIndex?.mayBeExact(prompt) ? await this.pageIndex.exact(prompt, options) : undefined);
    if (known) return { r: { ...known, timings: { ...known.timings, totalMs: performance.now() - t0 } } };
    const given = await this.vectorOf(prompt, options);
    const embedMs = this.embedding && options.vector === undefined ? performance.now() - t0 : undefined;
    const here: (GetResult & { vector?: Float32Array }) | undefined = given && this.pageIndex?.lookup(prompt, options, given);
    const { vector: embedded, ...r } = here ?? (await this.lookup(prompt, options, given));
    // timed where it ran, with this page's embedding; a worker's own total is kept apart
    if (r.timings) r.timings = { ...r.timings, ...(embedMs === undefined ? {} : { embedMs }), ...(here ? {} : { workerMs: r.timings.totalMs }), totalMs: performance.now() - t0 };
    return { r, vector: given ?? embedded };
  }

  private async lookup(prompt: string, options: GetOptions, vector: Float32Array | undefined): Promise<GetResult & { vector?: Float32Array }> {
    const v = this.o.verifier;
    const wire: WireGetOptions = { scope: options.scope, threshold: options.threshold, vector };
    const generation = this.exact?.generation;
    if (v) wire.verifier = { band: v.band, timeoutMs: v.timeoutMs };
    const clean = this.own.clean;
    const { memo, seq, epoch, ...r } = await this.call('get', [prompt, wire], v ? { onEvent: (e) => void this.verify(e) } : {});
    this.own.saw({ epoch, seq }, clean);
    if (memo && r.hit) this.exact?.learn(this.exact.keyOf(prompt, options.scope), r, memo, generation!);
    return r;
  }

  /** The worker's lookup asks this page's verifier; it takes the answer if it comes in time. */
  private async verify(e: VerifyEvent) {
    const verdict = await verdictOf(this.o.verifier!, e.query, e.cachedPrompt, e.cachedAnswer);
    // Too late or the worker went away: the lookup is a miss either way.
    await this.call('verdict', [e.token, verdict]).catch(() => {});
  }

  private call<V extends Verb>(verb: V, args: RpcArgs<OpfsProtocol[V]>, options: RpcCallOptions<V extends keyof OpfsEvents ? OpfsEvents[V] : unknown> = {}): Promise<RpcResult<OpfsProtocol[V]>> {
    if (this.closed || this.closing) return Promise.reject(new SemcacheError('CLOSED', 'this cache is closed'));
    if (verb !== 'exactHits' && verb !== 'pageHits') this.exact?.flush(), this.pageIndex?.flush();
    // Nothing is transferred: the vectors are copies already, and a resend needs them intact.
    const o = { ...options, transfer: [] };
    return (this.owner ? this.local(verb, args, o) : this.remote.call(verb, args, o)) as Promise<RpcResult<OpfsProtocol[V]>>;
  }

  private async local<V extends Verb>(verb: V, args: RpcArgs<OpfsProtocol[V]>, options: RpcCallOptions<never>): Promise<unknown> {
    await this.ready;
    return this.rpc!.call(verb, args, options as RpcCallOptions);
  }

  /** Runs while this tab holds the lock; resolves (releasing it) when this cache closes. */
  private async becomeOwner(): Promise<void> {
    if (this.closing) return;
    this.owner = true;
    // `new Worker(new URL('…', import.meta.url))` as one expression: the form bundlers follow.
    const name = `semcache-opfs:${this.o.name}`;
    this.worker = this.o.workerUrl
      ? new Worker(this.o.workerUrl, { type: 'module', name })
      : new Worker(new URL('./workers/opfs-worker.js', import.meta.url), { type: 'module', name });
    this.rpc = new RpcClient<OpfsProtocol, OpfsEvents>(this.worker);
    const embeds = this.embedding ? { dimensions: this.dims, embedderId: this.embedderId, defaultThreshold: this.embedding.embedder.defaultThreshold } : { embedder: wireEmbedder(this.o.workerEmbedder!) };
    this.ready = this.rpc.call(
      'open',
      [
        {
          name: this.o.name,
          ...embeds,
          sqliteUrl: this.o.sqliteUrl,
          options: workerOptions(this.o),
          onCorrupt: this.o.onCorrupt,
          storageShare: this.o.storageShare ?? DEFAULT_STORAGE_SHARE,
        },
      ],
      { onEvent: (p) => this.o.workerEmbedder?.onProgress?.(p) },
    );
    this.tabs.serve<OpfsProtocol, OpfsEvents>(() => this.relay());
    // Announced once open: every tab, this one included, resends what it sent the last owner.
    await this.ready.then(
      () => this.tabs.announce(),
      (e: Error) => this.remote.fail(e as SemcacheError),
    );
    await new Promise<void>((r) => {
      this.release = r;
      if (this.closed) r();
    });
  }

  /** The owner's handlers for one calling tab: each verb runs in this tab's worker, once per call
   * id (a resent call gets the first run's answer), with its events passed back. */
  private relay(): RpcHandlers<OpfsProtocol, OpfsEvents> {
    const served = new Map<number, Promise<unknown>>();
    const handlers: Record<string, (this: RpcContext, ...args: unknown[]) => Promise<unknown>> = {};
    for (const verb of RELAYED_VERBS) {
      const owner = this;
      handlers[verb] = function (this: RpcContext, ...args: unknown[]) {
        let p = served.get(this.id);
        if (!p) {
          p = owner.local(verb as RelayedVerb, args as never, { onEvent: (e: unknown) => this.emit(e), signal: this.signal } as RpcCallOptions<never>);
          served.set(this.id, p);
          if (served.size > 4096) served.delete(served.keys().next().value!);
        }
        return p;
      };
    }
    return handlers as unknown as RpcHandlers<OpfsProtocol, OpfsEvents>;
  }
}
