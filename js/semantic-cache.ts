// SemanticCache: a cache in this thread, on the wasm core and a store: the get and put orchestration
// (options.ts, writer.ts, snapshots.ts, embedding.ts, verifier.ts, cache-flights.ts, cache-report.ts,
// tiers.ts and transfer/ hold the rest).
import type {
  ClearOptions,
  ComputeFunction,
  ComputeResult,
  EntriesOptions,
  EntryInfo,
  ExportOptions,
  FeedbackResult,
  GetHit,
  GetOptions,
  GetOrComputeOptions,
  GetResult,
  ImportOptions,
  ImportResult,
  ImportSource,
  PutOptions,
  PutResult,
  SemanticCacheApi,
  SemanticCacheOptions,
  SemanticCacheStats,
  Timings,
  VerifierOptions,
} from './api.js';
import type { OpfsCache, OpfsCacheOptions } from './api-opfs.js';
import { CacheFlights } from './cache-flights.js';
import { candidatesOf, hitOf } from './cache-hit.js';
import { cacheStats, listEntries } from './cache-report.js';
import { getOrComputeWith } from './compute.js';
import { withEmbedderDefaults } from './embedder.js';
import { Embedding, embedderOf, normalizerOf, resolveDimensions } from './embedding.js';
import { SemcacheError, core, fromCore, throwIfAborted } from './errors.js';
import { useLearnedEvaluator } from './evaluator-model.js';
import type { BeginResult } from './flights.js';
import { rowsAt, mirror } from './cache-copy.js';
import { INTERNAL, type CacheInternals } from './internal.js';
import { checkNumber, checkOptions, resolveOptions, type ResolvedOptions } from './options.js';
import { scopeKey, type ScopeInput } from './scope.js';
import { CLOSE_REPLAY_ROWS, Snapshots } from './snapshots.js';
import { storageFor } from './storage.js';
import { MemoryStore } from './stores/memory.js';
import type { CacheStore } from './store.js';
import { Tiers } from './tiers.js';
import { LocalTransfer } from './transfer/local.js';
import { exportFilter, exportStream, importInto } from './transfer/transfer.js';
import { checkAnswer, checkMetadata, checkPrompt } from './validate.js';
import { CALL_VERIFIER, inBand, runVerifier } from './verifier.js';
import { loadCore } from './wasm.js';
import type { CacheCore, CoreLookupResult, SemcacheCoreModule } from './wasm/semcache_core.mjs';
import { Writer, withVector, type CoreRef } from './writer.js';

type Lookup = { result: GetResult; vector?: Float32Array };
/** GetOptions as the OPFS worker passes them: possibly with the calling page's verifier. */
type InternalGetOptions = GetOptions & { [CALL_VERIFIER]?: VerifierOptions };

export class SemanticCache implements SemanticCacheApi {
  readonly dimensions: number;
  readonly threshold: number;
  private readonly c: CoreRef;
  private readonly writer: Writer;
  private readonly snapshots: Snapshots;
  private readonly tiers: Tiers;
  /** The embedder's id and the vector length: what an export file carries and an import must match. */
  private readonly vectors: { embedder: string; dimensions: number };
  readonly [INTERNAL]: CacheInternals;
  private readonly flights: CacheFlights;
  private closed = false;
  private readonly counts = { storeMs: 0, cacheErrors: 0, verifierCalls: 0, verifierErrors: 0, verifierTimeouts: 0 };

  private constructor(
    m: SemcacheCoreModule,
    coreObj: CacheCore,
    private readonly store: CacheStore,
    private readonly embedding: Embedding,
    private readonly o: ResolvedOptions,
    seq: number,
    options: SemanticCacheOptions,
    evaluatorBytes?: Uint8Array,
  ) {
    this.dimensions = o.core.dimensions;
    this.threshold = o.threshold;
    this.c = { m, core: coreObj, dimensions: this.dimensions };
    this.writer = new Writer(this.c, store, seq, o.clock, this.counts, () => this.check());
    this.snapshots = new Snapshots(this.c, store, this.writer, o, this.counts, o.clock);
    this.tiers = Tiers.of(options);
    this.vectors = { embedder: embedding.embedder.id ?? 'unnamed', dimensions: this.dimensions };
    const transfer = new LocalTransfer(this.c, store, this.writer, o.clock, o);
    this[INTERNAL] = {
      transfer, entries: () => this.c.core.stats().entries, evict: (count) => this.writer.evict(count), lookup: (p, o, exactFirst) => this.lookup(p, o, exactFirst),
      lookupExact: (p, o) => (this.check(), checkPrompt(p, this.o.maxPromptChars), this.exactHit(p, this.scopeOf(o.scope), { embedMs: 0, searchMs: 0, storeMs: 0, totalMs: 0 }, now())),
      lookupHere: (p, o, v) => this.lookupHere(p, o, v),
      onForget: (listener) => void (this.writer.onForget = listener), expiresAt: (id) => this.c.core.entry(id)?.expiresAt,
      noteExactHits: (hits) => hits.forEach((h) => this.writer.noteExactHit(this.scopeOf(h.scope), h.prompt)),
      noteHits: (hits) => hits.forEach((h) => this.writer.noteHit(h.id, h.score)),
      onBatch: (listener) => void (this.writer.onBatch = listener), seq: () => this.writer.seq,
      rows: (limits) => rowsAt(this.c, this.store, this.writer, limits, () => this.check()),
      mirror: (batch) => (this.check(), mirror(this.c, this.store, this.writer, batch)),
    };
    this.flights = new CacheFlights(m, o, evaluatorBytes && ((c) => useLearnedEvaluator(m, c, evaluatorBytes, embedding.embedder)));
  }

  /**
   * Opens a cache. In this thread on a store (`store`, or made for `storage`: 'memory' by
   * default, 'file' in Node), restoring its entries (from the snapshot when current). With
   * `storage: 'opfs'` (browsers) the cache lives in a dedicated worker on OPFS-backed SQLite and
   * the object returned is its proxy.
   */
  static open(options: OpfsCacheOptions): Promise<OpfsCache>;
  static open(options: SemanticCacheOptions): Promise<SemanticCache>;
  static async open(options: SemanticCacheOptions | OpfsCacheOptions): Promise<SemanticCacheApi> {
    if (!options || typeof options !== 'object') {
      throw new SemcacheError('INVALID_ARGUMENT', 'SemanticCache.open needs an options object with an embedder');
    }
    const given = (options as SemanticCacheOptions).store;
    const storage = given ? undefined : storageFor(options.storage);
    if (storage && 'open' in storage) return storage.open(options as OpfsCacheOptions, (o) => SemanticCache.open(o));
    const embedder = embedderOf(options);
    const o = withEmbedderDefaults(options as SemanticCacheOptions, embedder);
    checkOptions(o);
    const dimensions = await resolveDimensions(o.dimensions, embedder);
    const m = await loadCore(o.wasm);
    const resolved = resolveOptions(o, embedder, dimensions, core(() => m.CacheCore.defaults()));
    const normalize = normalizerOf(o, m);
    const store = o.store ?? (await storage!.store(o));
    const c = core(() => new m.CacheCore(resolved.core));
    const embedding = new Embedding(embedder, dimensions, normalize);
    try {
      return await SemanticCache.openOn(store, m, c, embedding, o, resolved);
    } catch (e) {
      // Damage met while restoring (rows or snapshot unreadable): start fresh if asked to.
      if ((e as SemcacheError)?.code !== 'CORRUPT_DATABASE' || o.onCorrupt !== 'reset') {
        c.delete();
        throw e;
      }
      await store.destroy();
      return await SemanticCache.openOn(store, m, c, embedding, o, resolved).catch((e2: unknown) => {
        c.delete();
        throw e2;
      });
    }
  }

  private static async openOn(
    store: CacheStore,
    m: SemcacheCoreModule,
    c: CacheCore,
    embedding: Embedding,
    options: SemanticCacheOptions,
    o: ResolvedOptions,
  ): Promise<SemanticCache> {
    c.clear();
    try {
      const learned = o.evaluator === 'learned' ? await useLearnedEvaluator(m, c, options.evaluatorModel, embedding.embedder) : undefined;
      const info = { dimensions: o.core.dimensions, space: o.core.space, embedder: embedding.embedder.id ?? 'unnamed' };
      let opened = await store.open(info);
      const s = opened.info;
      if (s.dimensions !== info.dimensions || s.space !== info.space || s.embedder !== info.embedder) {
        const what = `store holds ${s.dimensions}-d ${s.space} vectors from embedder '${s.embedder}', this cache uses ${info.dimensions}-d ${info.space} from '${info.embedder}'`;
        if (!options.resetOnMismatch) throw new SemcacheError('STORE_MISMATCH', `${what} (pass resetOnMismatch: true to start fresh)`);
        await store.destroy();
        opened = await store.open(info);
      }
      const cache = new SemanticCache(m, c, store, embedding, o, opened.seq, options, learned);
      await cache.snapshots.restore();
      return cache;
    } catch (e) {
      await store.close().catch(() => {});
      throw fromCore(e);
    }
  }

  /** Looks a prompt up here, then (on a miss, for a shared scope) in `next`, copying its hit here. */
  async get(prompt: string, options: GetOptions = {}): Promise<GetResult> {
    const t0 = now();
    const r = await this.lookup(prompt, options);
    if (r.result.hit || !this.tiers.enabled) return r.result;
    const scope = this.scopeOf(options.scope);
    return this.tiers.afterMiss(prompt, options, r.result, t0, async (hit) => (await this.insert(prompt, hit.answer, scope, r.vector!, { metadata: hit.metadata })).id);
  }

  /** Stores an answer here, and (for a shared scope) writes it through to `next`. */
  async put(prompt: string, answer: string, options: PutOptions = {}): Promise<PutResult> {
    this.check();
    checkPrompt(prompt, this.o.maxPromptChars);
    checkAnswer(answer, this.o.maxAnswerBytes);
    const scope = this.scopeOf(options.scope);
    const vector = await this.embedding.vectorOf(prompt, options);
    const r = await this.insert(prompt, answer, scope, vector, options);
    const err = await this.tiers.writeThrough(prompt, answer, options);
    if (!err) return r;
    this.counts.cacheErrors++;
    return { ...r, cacheError: err };
  }

  async getOrCompute(prompt: string, compute: ComputeFunction, options: GetOrComputeOptions = {}): Promise<ComputeResult> {
    return getOrComputeWith<{ vector: Float32Array; scope: string }>(prompt, compute, options, {
      lookup: async () => {
        const { result: r, vector } = await this.start(prompt, options);
        return r.hit ? { hit: r } : { miss: { vector: vector!, scope: this.scopeOf(options.scope) }, lead: r.lead, join: r.join };
      },
      store: async (answer, { vector, scope }, metadata) => {
        checkAnswer(answer, this.o.maxAnswerBytes);
        return (await this.insert(prompt, answer, scope, vector, metadata === undefined ? options : { ...options, metadata })).id;
      },
      failure: (e) => (this.counts.cacheErrors++, fromCore(e) as Error),
      next: this.tiers.computeSteps(prompt, options),
    });
  }

  export(options: ExportOptions = {}): ReadableStream<Uint8Array> {
    this.check();
    return exportStream(this.vectors, this[INTERNAL].transfer, exportFilter(options));
  }

  async import(source: ImportSource, options: ImportOptions = {}): Promise<ImportResult> {
    this.check();
    return importInto(source, this[INTERNAL].transfer, this.vectors, options);
  }

  /**
   * get() for callers that call the LLM themselves: a miss joins a similar one in flight or leads
   * (docs/adapters.md). A leading miss in a shared scope asks `next` first; its answer there is
   * this call's hit (and the joined calls' answer), and a leader's own answer is written through.
   */
  async begin(prompt: string, options: GetOptions = {}): Promise<BeginResult> {
    const t0 = now();
    const { result } = await this.start(prompt, options);
    if (result.hit || !result.lead || !this.tiers.shares(options.scope)) return result;
    return this.tiers.lead(prompt, options, { ...result, lead: result.lead }, t0);
  }

  /**
   * Tells the cache whether a hit was right (vCache-style per-entry thresholds). A wrong hit
   * raises that entry's threshold just past the score that let it in (and by at least 0.05); a
   * right one lowers it by 0.01, down to -0.05. Offsets are in the evaluator's score units
   * (cosine, or probability for 'learned'), persist in the store and the snapshot, and apply to
   * every later semantic lookup that ranks this entry first. Resolves with the new offset.
   */
  async feedback(id: number, verdict: { correct: boolean }): Promise<FeedbackResult> {
    this.check();
    checkId(id);
    if (!verdict || typeof verdict.correct !== 'boolean') throw new SemcacheError('INVALID_ARGUMENT', 'feedback needs { correct: boolean }');
    return { thresholdOffset: await this.writer.feedback(id, verdict.correct) };
  }

  async delete(id: number): Promise<boolean> {
    this.check();
    checkId(id);
    return this.writer.remove(id);
  }

  async clear(options: ClearOptions = {}): Promise<number> {
    this.check();
    return this.writer.clear('scope' in options ? this.scopeOf(options.scope) : undefined);
  }

  async entries(options: EntriesOptions = {}): Promise<EntryInfo[]> {
    this.check();
    return listEntries(this.c, this.store, 'scope' in options ? this.scopeOf(options.scope) : '', options);
  }

  async stats(): Promise<SemanticCacheStats> {
    this.check();
    return cacheStats(this.c, this.counts, this.embedding, {
      evaluator: this.o.evaluator,
      store: this.store.kind,
      threshold: this.threshold,
      embedder: this.vectors.embedder,
      ...(this.tiers.enabled ? { next: { ...this.tiers.counts } } : {}),
    });
  }

  /**
   * Writes pending access bookkeeping and a fresh index snapshot to the store. Nothing when
   * nothing changed since the store's snapshot (a cache opened and closed unchanged rewrites no
   * snapshot).
   */
  async flush(): Promise<void> {
    this.check();
    await this.snapshots.flush(0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // A few changed rows are cheaper to replay on the next open than a whole snapshot to
      // rewrite now (100k 384-d entries: ~176 MB for, say, one lookup's hit count).
      this.check();
      await this.snapshots.flush(CLOSE_REPLAY_ROWS);
    } finally {
      this.closed = true;
      await this.snapshots.close();
      this.flights.close();
      this.c.core.delete();
      await this.store.close();
    }
  }

  // ---- internals ----

  private check() {
    if (this.closed) throw new SemcacheError('CLOSED', 'this SemanticCache is closed');
  }

  private start(prompt: string, options: GetOptions) {
    const scope = this.scopeOf(options.scope);
    const insert = (answer: string, vector: Float32Array, o: PutOptions) => this.insert(prompt, answer, scope, vector, { ...options, ...o });
    return this.flights.start(prompt, scope, options.threshold, () => this.lookup(prompt, options), insert);
  }

  private scopeOf(scope: ScopeInput): string {
    return scope === undefined ? this.o.defaultScope : scopeKey(scope);
  }

  /** Exact prompt first (no embedding), then by meaning; the verifier decides inside its band. */
  private async lookup(prompt: string, options: InternalGetOptions, exactFirst = true): Promise<Lookup> {
    this.check();
    const t0 = now();
    checkPrompt(prompt, this.o.maxPromptChars);
    const scope = this.scopeOf(options.scope);
    throwIfAborted(options.signal);
    const timings: Timings = { embedMs: 0, searchMs: 0, storeMs: 0, totalMs: 0 };
    const hit = exactFirst ? await this.exactHit(prompt, scope, timings, t0) : undefined;
    if (hit) return { result: hit };
    const te = now();
    const vector = await this.embedding.vectorOf(prompt, options);
    timings.embedMs = now() - te;
    const ts = now();
    const r = this.search(scope, prompt, vector, options.threshold);
    timings.searchMs = now() - ts;
    const v = options[CALL_VERIFIER] ?? this.o.verifier;
    if (v && r.candidateIds.length && inBand(v, r.score)) {
      const hit = await this.answer(r, undefined, timings, t0);
      const ok = hit ? await runVerifier(v, this.counts, prompt, hit.matchedPrompt, hit.answer) : false;
      if (hit && ok) return { result: { ...hit, verified: true }, vector };
      timings.totalMs = now() - t0;
      return { result: { hit: false, similarity: r.similarity, score: r.score, verified: true, candidates: candidatesOf(r), timings }, vector };
    }
    if (r.hit) {
      const hit = await this.answer(r, undefined, timings, t0);
      if (hit) return { result: hit, vector };
    }
    timings.totalMs = now() - t0;
    const some = r.candidateIds.length > 0;
    return { result: { hit: false, similarity: some ? r.similarity : null, score: some ? r.score : null, candidates: candidatesOf(r), timings }, vector };
  }

  /** The exact (normalized) repeat's hit, or undefined. */
  private async exactHit(prompt: string, scope: string, timings: Timings, t0: number): Promise<GetHit | undefined> {
    const exact = core(() => this.c.core.lookupExact(scope, prompt, this.o.clock()));
    this.writer.dropExpired([...exact.expired]);
    return exact.hit ? this.answer(exact, prompt, timings, t0) : undefined;
  }

  /** Fetches a hit's answer; undefined if the row is gone or (exact path) the prompt differs. */
  private async answer(r: CoreLookupResult, prompt: string | undefined, timings: Timings, t0: number): Promise<GetHit | undefined> {
    const ts = now();
    // Checked before the store, in the same turn as the core lookup: once the batch is written
    // the store has the row (or a failed batch has taken the entry out of the core).
    const row = this.writer.unwrittenRow(r.id) ?? (await this.store.get(r.id));
    timings.storeMs += now() - ts;
    this.counts.storeMs += now() - ts;
    return hitOf(this.c, this.writer, this.embedding, r, row, prompt, timings, t0);
  }

  /** The core's lookup of a checked vector; expired entries it met are dropped. */
  private search(scope: string, prompt: string, vector: Float32Array, threshold: number | undefined): CoreLookupResult {
    const r = withVector(this.c, vector, () => this.c.core.lookup(scope, prompt, vector.length, this.o.clock(), threshold === undefined ? {} : { threshold }));
    this.writer.dropExpired([...r.expired]);
    return r;
  }

  /**
   * A copy's lookup by meaning, in this turn (the page's copy of an OPFS cache, PageIndex): the
   * vector is the caller's embedding of a prompt it checked, the row is read in place from the
   * memory store. A hit, or undefined. No awaits between the embedding and the answer: after an
   * embedding each hop and check is paid cold (docs/benchmarks.md).
   */
  private lookupHere(prompt: string, options: Pick<GetOptions, 'scope' | 'threshold'>, vector: Float32Array): GetHit | undefined {
    this.check();
    const store = this.store;
    if (!(store instanceof MemoryStore) || this.o.verifier) throw new SemcacheError('INVALID_ARGUMENT', 'lookupHere is for a copy on a memory store, without a verifier');
    if (vector.length !== this.dimensions) throw new SemcacheError('DIMENSION_MISMATCH', `the vector has ${vector.length} dimensions, the cache expects ${this.dimensions}`);
    const t0 = now();
    const r = this.search(this.scopeOf(options.scope), prompt, vector, options.threshold);
    const timings: Timings = { embedMs: 0, searchMs: now() - t0, storeMs: 0, totalMs: 0 };
    if (!r.hit) return undefined;
    return hitOf(this.c, this.writer, this.embedding, r, this.writer.unwrittenRow(r.id) ?? store.peek(r.id), undefined, timings, t0);
  }

  private insert(prompt: string, answer: string, scope: string, vector: Float32Array, options: PutOptions): Promise<PutResult> {
    const ttl = options.ttl ?? this.o.ttl;
    checkNumber('ttl', ttl, 0);
    const answerBytes = checkAnswer(answer, this.o.maxAnswerBytes);
    return this.writer.put({ prompt, answer, scope, vector, ttl, answerBytes, metadata: checkMetadata(options.metadata) });
  }
}

function checkId(id: number) {
  if (!Number.isInteger(id) || id < 1) throw new SemcacheError('INVALID_ARGUMENT', `id must be a positive integer, got ${id}`);
}

const now = () => performance.now();
