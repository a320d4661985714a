import type { CacheCore, CoreLookupResult, SemcacheCoreModule } from './wasm/semcache_core.mjs';
import { toEmbedder, type EmbedFunction, type Embedder } from './embedder.js';
import { SemcacheError, core, fromCore, throwIfAborted } from './errors.js';
import { fetchBytes } from './net.js';
import { scopeKey, type ScopeInput } from './scope.js';
import type { CacheRow, CacheStore, StoreBatch } from './store.js';
import { MemoryStore } from './stores/memory.js';
import { checkAnswer, checkPrompt, checkVector, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_PROMPT_CHARS } from './validate.js';
import { loadCore, type LoadCoreOptions } from './wasm.js';

export interface SemanticCacheOptions {
  /** Turns prompts into vectors: an Embedder object or `async (texts) => vectors`. Required. */
  embedder: Embedder | EmbedFunction;
  /** Vector length. Default: the embedder's `dimensions`, else one probe embedding at open. */
  dimensions?: number;
  /** Where entries persist. Default: a new MemoryStore (nothing survives the process). */
  store?: CacheStore;
  /** Cosine similarity in [-1, 1] a match needs to be a hit. Default: the embedder's calibrated
   * `defaultThreshold`, else 0.9. */
  threshold?: number;
  /** 'cosine' (best match >= threshold), 'margin' (also beats the runner-up by `margin`) or
   * 'learned' (a trained model's probability that the two prompts ask the same thing, from the
   * cosine and lexical features — differing content words, numbers, negations, antonyms, names —
   * against a threshold calibrated for `maxFalseHitRate`; `threshold` is then not used).
   * Default 'cosine'. */
  evaluator?: 'cosine' | 'margin' | 'learned';
  /** For 'learned': the share of non-duplicate questions allowed to hit, as calibrated on
   * held-out QQP training pairs (e.g. 0.05 = 5%). Default 0.05. */
  maxFalseHitRate?: number;
  /** For 'learned': the model file (URL or bytes). Default: the bundled
   * dist/models/evaluator/model.bin (built by tools/train-evaluator.mjs). */
  evaluatorModel?: string | URL | Uint8Array;
  /** Second opinion for borderline lookups (e.g. an LLM judge). Called only when the evaluator's
   * score (cosine, or probability for 'learned') of the best match lies in `band` [lo, hi];
   * its answer then decides hit or miss. A timeout or a throw counts as a miss (a throw is
   * reported through stats().verifierErrors and `onVerifierError`). */
  verifier?: VerifierOptions;
  /** For the 'margin' evaluator: the cosine lead over the runner-up. Default 0.02. */
  margin?: number;
  /** Index vector storage: 'f32' or 'int8' (a quarter of the memory, cosine error ~1e-3). Default 'f32'. */
  space?: 'f32' | 'int8';
  /** 'lru' | 'lfu' | 'fifo'. Default 'lru'. */
  eviction?: 'lru' | 'lfu' | 'fifo';
  /** Most entries kept; 0 = unlimited. Default 100,000. */
  maxEntries?: number;
  /** Byte budget (answer UTF-8 bytes + vector bytes); 0 = unlimited. Default 0. */
  maxBytes?: number;
  /** When a limit is exceeded, evict down to (1 - this) of it in one batch. Default 0.02. */
  evictFraction?: number;
  /** Entry lifetime in ms; 0 = forever. Default 0. Per-put `ttl` overrides it. */
  ttl?: number;
  /** Neighbours ranked per lookup (returned as candidates). Default 4. */
  candidates?: number;
  /** HNSW parameters. Defaults: M 16, efConstruction 100, efSearch 64. */
  index?: { M?: number; efConstruction?: number; efSearch?: number };
  /** Longest prompt accepted, in UTF-16 code units. Default 32,768. */
  maxPromptChars?: number;
  /** Largest answer accepted, in UTF-8 bytes. Default 8 MiB. */
  maxAnswerBytes?: number;
  /** Scope for calls that pass none. Default: the empty scope. */
  scope?: ScopeInput;
  /** Writes between background index snapshots; 0 = only on close(). Default 1000. */
  snapshotEvery?: number;
  /** If the store holds entries of another embedder/dimension: false (default) throws
   * STORE_MISMATCH, true wipes the store and starts fresh. */
  resetOnMismatch?: boolean;
  /** Clock in ms (tests). Default Date.now. */
  clock?: () => number;
  /** How to load the wasm core (see loadCore). */
  wasm?: LoadCoreOptions;
}

export interface VerifierOptions {
  fn: (query: string, cachedPrompt: string, cachedAnswer: string) => Promise<boolean> | boolean;
  /** Scores [lo, hi] (inclusive) that go to the verifier. */
  band: [number, number];
  /** Time budget per call; past it the lookup is a miss. Default 2000. */
  timeoutMs?: number;
  onVerifierError?: (error: Error) => void;
}

export interface FeedbackResult {
  /** The entry's threshold offset after this feedback, in the evaluator's score units. */
  thresholdOffset: number;
}

export interface CallOptions {
  scope?: ScopeInput;
  signal?: AbortSignal;
}

export interface GetOptions extends CallOptions {
  /** Overrides the cache's threshold for this lookup (cosine in [-1, 1]; not used by the
   * 'learned' evaluator, whose threshold comes from maxFalseHitRate). */
  threshold?: number;
}

export interface PutOptions extends CallOptions {
  /** Lifetime in ms for this entry; 0 = forever. Default: the cache's ttl. */
  ttl?: number;
  /** Anything JSON-serializable kept with the entry and returned on hits. */
  metadata?: unknown;
}

export interface Candidate {
  id: number;
  similarity: number;
}

export interface Timings {
  embedMs: number;
  searchMs: number;
  storeMs: number;
  totalMs: number;
}

export type GetResult =
  | {
      hit: true;
      id: number;
      answer: string;
      /** Cosine similarity of the matched prompt (1 for an exact match). */
      similarity: number;
      /** The evaluator's score: the cosine, or for 'learned' the probability (1 for an exact match). */
      score: number;
      /** True when the verifier was asked (and said yes). */
      verified?: boolean;
      matchedPrompt: string;
      exact: boolean;
      metadata?: unknown;
      candidates: Candidate[];
      timings: Timings;
    }
  | {
      hit: false;
      /** Cosine of the nearest entry in scope, or null when the scope is empty. */
      similarity: number | null;
      /** The evaluator's score for that entry, or null when the scope is empty. */
      score: number | null;
      /** True when the verifier was asked (and said no, failed or timed out). */
      verified?: boolean;
      candidates: Candidate[];
      timings: Timings;
    };

export interface PutResult {
  id: number;
  /** Entries removed to respect maxEntries/maxBytes/TTL. */
  evicted: number;
  /** The older entry with the same prompt in the same scope, now replaced. */
  replaced: number | null;
}

export interface ComputeResult {
  answer: string;
  hit: boolean;
  similarity: number | null;
  id: number | null;
  /** Set when the cache failed; the answer then came from compute. */
  cacheError?: SemcacheError | Error;
}

export interface GetOrComputeOptions extends PutOptions, GetOptions {
  /** Called with any cache error (the call itself still answers through compute). */
  onCacheError?: (error: Error) => void;
}

export interface EntryInfo {
  id: number;
  scope: string;
  prompt: string;
  answer: string;
  created: number;
  lastAccess: number;
  expiresAt: number;
  hits: number;
  metadata?: unknown;
}

export interface SemanticCacheStats {
  lookups: number;
  hits: number;
  exactHits: number;
  misses: number;
  hitRate: number;
  puts: number;
  evictions: number;
  expirations: number;
  removals: number;
  entries: number;
  bytes: number;
  scopes: number;
  /** Total ms spent per stage since open. */
  time: { embedMs: number; searchMs: number; evaluateMs: number; storeMs: number; evictMs: number };
  embedCalls: number;
  cacheErrors: number;
  verifierCalls: number;
  verifierErrors: number;
  verifierTimeouts: number;
  evaluator: string;
  /** The score a hit needs before per-entry offsets: the cosine threshold, or for 'learned' the
   * probability calibrated for maxFalseHitRate. */
  evaluatorThreshold: number;
  store: string;
  threshold: number;
  dimensions: number;
}

type Lookup = { result: GetResult; vector?: Float32Array };

export class SemanticCache {
  private readonly embedder: Embedder;
  private readonly m: SemcacheCoreModule;
  private readonly core: CacheCore;
  private readonly store: CacheStore;
  private readonly opts: Required<Pick<SemanticCacheOptions, 'maxPromptChars' | 'maxAnswerBytes' | 'ttl' | 'snapshotEvery'>>;
  private readonly clock: () => number;
  private readonly defaultScope: string;
  readonly dimensions: number;
  readonly threshold: number;
  private closed = false;
  private writes: Promise<unknown> = Promise.resolve();
  private touches = new Map<number, { id: number; lastAccess: number; hits: number; thresholdOffset?: number }>();
  private seq: number;
  private writesSinceSnapshot = 0;
  private snapshotting?: Promise<void>;
  private extra = { embedMs: 0, storeMs: 0, embedCalls: 0, cacheErrors: 0, verifierCalls: 0, verifierErrors: 0, verifierTimeouts: 0 };
  private readonly verifier?: VerifierOptions;
  private readonly evaluator: string;

  private constructor(init: {
    embedder: Embedder;
    m: SemcacheCoreModule;
    core: CacheCore;
    store: CacheStore;
    options: SemanticCacheOptions;
    dimensions: number;
    threshold: number;
    seq: number;
  }) {
    const o = init.options;
    this.embedder = init.embedder;
    this.m = init.m;
    this.core = init.core;
    this.store = init.store;
    this.dimensions = init.dimensions;
    this.threshold = init.threshold;
    this.seq = init.seq;
    this.verifier = o.verifier;
    this.evaluator = o.evaluator ?? 'cosine';
    this.clock = o.clock ?? Date.now;
    this.defaultScope = scopeKey(o.scope);
    this.opts = {
      maxPromptChars: o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS,
      maxAnswerBytes: o.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES,
      ttl: o.ttl ?? 0,
      snapshotEvery: o.snapshotEvery ?? 1000,
    };
  }

  /** Loads the core, opens the store and restores its entries (from the snapshot when current). */
  static async open(options: SemanticCacheOptions): Promise<SemanticCache> {
    if (!options || typeof options !== 'object') {
      throw new SemcacheError('INVALID_ARGUMENT', 'SemanticCache.open needs an options object with an embedder');
    }
    if (options.embedder === undefined) throw new SemcacheError('INVALID_ARGUMENT', 'options.embedder is required');
    const embedder = toEmbedder(options.embedder);
    checkNumber('ttl', options.ttl, 0);
    checkNumber('maxEntries', options.maxEntries, 0);
    checkNumber('maxBytes', options.maxBytes, 0);
    checkNumber('snapshotEvery', options.snapshotEvery, 0);
    const threshold = options.threshold ?? embedder.defaultThreshold ?? 0.9;
    if (typeof threshold !== 'number' || !(threshold >= -1 && threshold <= 1)) {
      throw new SemcacheError('INVALID_ARGUMENT', `threshold must be a cosine similarity in [-1, 1], got ${threshold}`);
    }
    checkNumber('maxFalseHitRate', options.maxFalseHitRate, 0);
    if (options.maxFalseHitRate !== undefined && options.maxFalseHitRate > 1) {
      throw new SemcacheError('INVALID_ARGUMENT', `maxFalseHitRate must be in [0, 1], got ${options.maxFalseHitRate}`);
    }
    checkVerifier(options.verifier);
    const dimensions = options.dimensions ?? embedder.dimensions ?? (await probeDimensions(embedder));
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 65536) {
      throw new SemcacheError('INVALID_ARGUMENT', `dimensions must be an integer in 1..65536, got ${dimensions}`);
    }
    const m = await loadCore(options.wasm);
    const cfg = {
      dimensions,
      space: options.space ?? 'f32',
      eviction: options.eviction ?? 'lru',
      maxEntries: options.maxEntries ?? 100_000,
      maxBytes: options.maxBytes ?? 0,
      evictFraction: options.evictFraction ?? 0.02,
      threshold,
      evaluator: options.evaluator === 'learned' ? 'cosine' : (options.evaluator ?? 'cosine'),  // 'learned' once its model is in
      margin: options.margin ?? 0.02,
      maxFalseHitRate: options.maxFalseHitRate ?? DEFAULT_MAX_FALSE_HIT_RATE,
      candidates: options.candidates ?? 4,
      M: options.index?.M ?? 16,
      efConstruction: options.index?.efConstruction ?? 100,
      efSearch: options.index?.efSearch ?? 64,
    } as const;
    const c = core(() => new m.CacheCore(cfg));
    const store = options.store ?? new MemoryStore();
    try {
      if (options.evaluator === 'learned') {
        const bytes = options.evaluatorModel instanceof Uint8Array ? options.evaluatorModel : await fetchBytes(options.evaluatorModel ?? DEFAULT_EVALUATOR_MODEL, { cache: false });
        const ptr = m._malloc(bytes.length);
        try {
          m.HEAPU8.set(bytes, ptr);
          core(() => c.loadEvaluatorModel(ptr, bytes.length));
        } finally {
          m._free(ptr);
        }
        core(() => c.configure({ evaluator: 'learned' }));
      }
      const info = { dimensions, space: cfg.space, embedder: embedder.id ?? 'unnamed' };
      let opened = await store.open(info);
      const s = opened.info;
      if (s.dimensions !== info.dimensions || s.space !== info.space || s.embedder !== info.embedder) {
        const what = `store holds ${s.dimensions}-d ${s.space} vectors from embedder '${s.embedder}', this cache uses ${info.dimensions}-d ${info.space} from '${info.embedder}'`;
        if (!options.resetOnMismatch) throw new SemcacheError('STORE_MISMATCH', `${what} (pass resetOnMismatch: true to start fresh)`);
        await store.destroy();
        opened = await store.open(info);
      }
      const cache = new SemanticCache({ embedder, m, core: c, store, options, dimensions, threshold, seq: opened.seq });
      await cache.restore();
      return cache;
    } catch (e) {
      c.delete();
      await store.close().catch(() => {});
      throw fromCore(e);
    }
  }

  /** Looks a prompt up: an exact prompt match first (no embedding), then by meaning. */
  async get(prompt: string, options: GetOptions = {}): Promise<GetResult> {
    return (await this.lookup(prompt, options)).result;
  }

  /** Stores an answer. Resolves when the store has it (durably, for a persistent store). */
  async put(prompt: string, answer: string, options: PutOptions = {}): Promise<PutResult> {
    this.check();
    checkPrompt(prompt, this.opts.maxPromptChars);
    checkAnswer(answer, this.opts.maxAnswerBytes);
    const scope = this.scopeOf(options.scope);
    const vector = await this.embedOne(prompt, options.signal);
    return this.insert(prompt, answer, scope, vector, options);
  }

  /**
   * The cached answer if there is one, else `compute(prompt)`'s, which is then cached. A cache
   * failure never fails the call: it falls through to compute and is reported in `cacheError`.
   */
  async getOrCompute(
    prompt: string,
    compute: (prompt: string, options: { signal?: AbortSignal }) => Promise<string> | string,
    options: GetOrComputeOptions = {},
  ): Promise<ComputeResult> {
    let cacheError: Error | undefined;
    const report = (e: unknown) => {
      const err = fromCore(e) as Error;
      cacheError ??= err;
      this.extra.cacheErrors++;
      try {
        options.onCacheError?.(err);
      } catch {
        // a throwing reporter must not break the caller's call either
      }
    };
    let vector: Float32Array | undefined;
    let scope: string | undefined;
    try {
      const r = await this.lookup(prompt, options);
      if (r.result.hit) return { answer: r.result.answer, hit: true, similarity: r.result.similarity, id: r.result.id };
      vector = r.vector;
      scope = this.scopeOf(options.scope);
    } catch (e) {
      if ((e as SemcacheError)?.code === 'ABORTED') throw e;
      report(e);
    }
    const answer = await compute(prompt, { signal: options.signal });
    let id: number | null = null;
    if (vector && scope !== undefined) {
      try {
        checkAnswer(answer, this.opts.maxAnswerBytes);
        id = (await this.insert(prompt, answer, scope, vector, options)).id;
      } catch (e) {
        report(e);
      }
    }
    return cacheError ? { answer, hit: false, similarity: null, id, cacheError } : { answer, hit: false, similarity: null, id };
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
    if (!Number.isInteger(id) || id < 1) throw new SemcacheError('INVALID_ARGUMENT', `id must be a positive integer, got ${id}`);
    if (!verdict || typeof verdict.correct !== 'boolean') throw new SemcacheError('INVALID_ARGUMENT', 'feedback needs { correct: boolean }');
    return this.write(async () => {
      const offset = core(() => this.core.feedback(id, verdict.correct));
      const e = this.core.entry(id);
      if (e) {
        const t = this.touches.get(id);
        this.touches.set(id, { id, lastAccess: t?.lastAccess ?? e.lastAccess, hits: t?.hits ?? e.hits, thresholdOffset: offset });
      }
      await this.apply({});
      return { thresholdOffset: offset };
    });
  }

  /** Removes one entry by id. Resolves true if it existed. */
  async delete(id: number): Promise<boolean> {
    this.check();
    if (!Number.isInteger(id) || id < 1) throw new SemcacheError('INVALID_ARGUMENT', `id must be a positive integer, got ${id}`);
    return this.write(async () => {
      if (!core(() => this.core.remove(id))) return false;
      await this.apply({ delete: [id] });
      return true;
    });
  }

  /** Removes every entry, or only those of one scope. Resolves with how many were removed. */
  async clear(options: { scope?: ScopeInput } = {}): Promise<number> {
    this.check();
    const scoped = 'scope' in options;
    const key = scoped ? this.scopeOf(options.scope) : '';
    return this.write(async () => {
      if (!scoped) {
        const n = this.core.stats().entries;
        this.core.clear();
        this.touches.clear();
        await this.apply({ clear: true });
        return n;
      }
      const ids = core(() => this.core.clearScope(key));
      if (ids.length) await this.apply({ delete: [...ids] });
      return ids.length;
    });
  }

  /** Entries with their prompts and answers, newest first (for UIs and debugging). */
  async entries(options: { scope?: ScopeInput; limit?: number; offset?: number } = {}): Promise<EntryInfo[]> {
    this.check();
    const ids = [...core(() => this.core.ids('scope' in options ? this.scopeOf(options.scope) : ''))].reverse();
    const page = ids.slice(options.offset ?? 0, (options.offset ?? 0) + (options.limit ?? 100));
    const out: EntryInfo[] = [];
    for (const id of page) {
      const row = await this.store.get(id);
      const e = this.core.entry(id);
      if (!row || !e) continue;
      out.push({
        id,
        scope: row.scope,
        prompt: row.prompt,
        answer: row.answer,
        created: e.created,
        lastAccess: e.lastAccess,
        expiresAt: e.expiresAt,
        hits: e.hits,
        metadata: row.metadata,
      });
    }
    return out;
  }

  stats(): SemanticCacheStats {
    this.check();
    const s = this.core.stats();
    return {
      lookups: s.lookups,
      hits: s.hits,
      exactHits: s.exactHits,
      misses: s.misses,
      hitRate: s.lookups ? s.hits / s.lookups : 0,
      puts: s.puts,
      evictions: s.evictions,
      expirations: s.expirations,
      removals: s.removals,
      entries: s.entries,
      bytes: s.bytes,
      scopes: s.scopes,
      time: {
        embedMs: this.extra.embedMs,
        searchMs: s.searchMs,
        evaluateMs: s.evaluateMs,
        storeMs: this.extra.storeMs,
        evictMs: s.evictMs,
      },
      embedCalls: this.extra.embedCalls,
      cacheErrors: this.extra.cacheErrors,
      verifierCalls: this.extra.verifierCalls,
      verifierErrors: this.extra.verifierErrors,
      verifierTimeouts: this.extra.verifierTimeouts,
      evaluator: this.evaluator,
      evaluatorThreshold: this.core.baseThreshold(),
      store: this.store.kind,
      threshold: this.threshold,
      dimensions: this.dimensions,
    };
  }

  /** Writes pending access bookkeeping and a fresh index snapshot to the store. */
  async flush(): Promise<void> {
    this.check();
    await this.write(async () => {
      await this.apply({});
      await this.saveSnapshot();
    });
  }

  /** Flushes, then releases the core and the store. Further calls throw CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.snapshotting?.catch(() => {});
      this.core.delete();
      await this.store.close();
    }
  }

  // ---- internals ----

  private check() {
    if (this.closed) throw new SemcacheError('CLOSED', 'this SemanticCache is closed');
  }

  private scopeOf(scope: ScopeInput): string {
    return scope === undefined ? this.defaultScope : scopeKey(scope);
  }

  private async lookup(prompt: string, options: GetOptions): Promise<Lookup> {
    this.check();
    const t0 = now();
    checkPrompt(prompt, this.opts.maxPromptChars);
    const scope = this.scopeOf(options.scope);
    throwIfAborted(options.signal);
    const timings: Timings = { embedMs: 0, searchMs: 0, storeMs: 0, totalMs: 0 };
    const exact = core(() => this.core.lookupExact(scope, prompt, this.clock()));
    this.dropExpired(exact);
    if (exact.hit) {
      const hit = await this.answer(exact, prompt, timings, t0);
      if (hit) return { result: hit };
    }
    const te = now();
    const vector = await this.embedOne(prompt, options.signal);
    timings.embedMs = now() - te;
    const ts = now();
    const r = core(() => {
      this.m.HEAPF32.set(vector, this.core.vectorBuffer() >> 2);
      return this.core.lookup(scope, prompt, vector.length, this.clock(), options.threshold === undefined ? {} : { threshold: options.threshold });
    });
    timings.searchMs = now() - ts;
    this.dropExpired(r);
    const v = this.verifier;
    if (v && r.candidateIds.length && r.score >= v.band[0] && r.score <= v.band[1]) {
      const hit = await this.answer(r, undefined, timings, t0);
      const ok = hit ? await this.verify(prompt, hit.matchedPrompt, hit.answer) : false;
      if (hit && ok) return { result: { ...hit, verified: true }, vector };
      timings.totalMs = now() - t0;
      const miss = { hit: false as const, similarity: r.similarity, score: r.score, verified: true, candidates: candidatesOf(r), timings };
      return { result: miss, vector };
    }
    if (r.hit) {
      const hit = await this.answer(r, undefined, timings, t0);
      if (hit) return { result: hit, vector };
    }
    timings.totalMs = now() - t0;
    const some = r.candidateIds.length > 0;
    return {
      result: { hit: false, similarity: some ? r.similarity : null, score: some ? r.score : null, candidates: candidatesOf(r), timings },
      vector,
    };
  }

  /** The user's verifier under its time budget: true only for a timely, truthy answer. */
  private async verify(query: string, cachedPrompt: string, cachedAnswer: string): Promise<boolean> {
    const v = this.verifier!;
    this.extra.verifierCalls++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), v.timeoutMs ?? 2000)));
    try {
      const r = await Promise.race([Promise.resolve().then(() => v.fn(query, cachedPrompt, cachedAnswer)), timeout]);
      if (r === 'timeout') {
        this.extra.verifierTimeouts++;
        return false;
      }
      return r === true;
    } catch (e) {
      this.extra.verifierErrors++;
      try {
        v.onVerifierError?.(e instanceof Error ? e : new Error(String(e)));
      } catch {
        // a throwing reporter must not break the lookup
      }
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fetches a hit's answer; undefined if the row is gone or (exact path) the prompt differs. */
  private async answer(r: CoreLookupResult, prompt: string | undefined, timings: Timings, t0: number) {
    const ts = now();
    const row = await this.store.get(r.id);
    timings.storeMs += now() - ts;
    this.extra.storeMs += now() - ts;
    if (!row) {
      // The core and the store disagree (a row deleted elsewhere): trust the store.
      this.core.remove(r.id);
      return undefined;
    }
    if (prompt !== undefined && row.prompt !== prompt) return undefined;  // a 64-bit hash collision
    const e = this.core.entry(r.id);
    if (e) this.touches.set(r.id, { id: r.id, lastAccess: e.lastAccess, hits: e.hits, thresholdOffset: e.thresholdOffset });
    timings.totalMs = now() - t0;
    return {
      hit: true as const,
      id: r.id,
      answer: row.answer,
      similarity: r.similarity,
      score: r.score,
      matchedPrompt: row.prompt,
      exact: r.exact,
      metadata: row.metadata,
      candidates: candidatesOf(r),
      timings,
    };
  }

  private dropExpired(r: CoreLookupResult) {
    if (!r.expired.length) return;
    const ids = [...r.expired];
    for (const id of ids) this.touches.delete(id);
    this.write(() => this.apply({ delete: ids })).catch(() => {
      this.extra.cacheErrors++;  // the rows stay; they are expired and dropped again on reopen
    });
  }

  private async embedOne(prompt: string, signal?: AbortSignal): Promise<Float32Array> {
    throwIfAborted(signal);
    const t = now();
    let out: ArrayLike<number>[];
    try {
      out = await this.embedder.embed([prompt], { signal });
    } catch (e) {
      if (signal?.aborted) throwIfAborted(signal);
      if (e instanceof SemcacheError) throw e;
      throw new SemcacheError('EMBEDDER_FAILED', `the embedder failed: ${(e as Error)?.message ?? e}`, { cause: e });
    } finally {
      this.extra.embedMs += now() - t;
      this.extra.embedCalls++;
    }
    throwIfAborted(signal);
    if (!Array.isArray(out) || out.length !== 1) {
      throw new SemcacheError('EMBEDDER_FAILED', `the embedder returned ${Array.isArray(out) ? out.length : typeof out} vectors for 1 text`);
    }
    return checkVector(out[0], this.dimensions, 'the embedding');
  }

  private insert(prompt: string, answer: string, scope: string, vector: Float32Array, options: PutOptions): Promise<PutResult> {
    const ttl = options.ttl ?? this.opts.ttl;
    checkNumber('ttl', ttl, 0);
    const answerBytes = checkAnswer(answer, this.opts.maxAnswerBytes);
    let metadata: unknown;
    if (options.metadata !== undefined) {
      try {
        metadata = JSON.parse(JSON.stringify(options.metadata));
      } catch (e) {
        throw new SemcacheError('INVALID_ARGUMENT', `metadata is not JSON-serializable: ${(e as Error).message}`);
      }
    }
    return this.write(async () => {
      this.check();
      const t = this.clock();
      const r = core(() => {
        this.m.HEAPF32.set(vector, this.core.vectorBuffer() >> 2);
        return this.core.put(scope, prompt, vector.length, answerBytes, t, ttl);
      });
      const removed = [...r.evicted];
      if (r.replaced) removed.push(r.replaced);
      const row: CacheRow = {
        id: r.id,
        scope,
        prompt,
        promptHash: r.promptHash,
        answer,
        answerBytes,
        vector: vector.slice(),
        created: t,
        lastAccess: t,
        expiresAt: ttl > 0 ? t + ttl : 0,
        hits: 0,
        metadata,
      };
      for (const id of removed) this.touches.delete(id);
      try {
        await this.apply({ put: [row], delete: removed });
      } catch (e) {
        await this.rollback(r.id, removed);
        throw e;
      }
      return { id: r.id, evicted: r.evicted.length, replaced: r.replaced || null };
    });
  }

  /** The store refused a put: take it out of the core and bring back what it displaced. */
  private async rollback(id: number, removed: number[]) {
    this.core.remove(id);
    for (const old of removed) {
      const row = await this.store.get(old).catch(() => undefined);
      if (row) this.restoreRow(row);
    }
  }

  /** Serializes writes so the store sees them in core order. */
  private write<T>(f: () => Promise<T>): Promise<T> {
    const p = this.writes.then(f, f);
    this.writes = p.catch(() => {});
    return p;
  }

  private async apply(batch: StoreBatch): Promise<void> {
    if (this.touches.size) {
      batch.touch = [...this.touches.values()];
      this.touches.clear();
    }
    const t = now();
    try {
      this.seq = await this.store.apply(batch);
    } catch (e) {
      throw e instanceof SemcacheError ? e : new SemcacheError('STORE_FAILED', `the ${this.store.kind} store failed: ${(e as Error)?.message ?? e}`, { cause: e });
    } finally {
      this.extra.storeMs += now() - t;
    }
    if (this.opts.snapshotEvery && ++this.writesSinceSnapshot >= this.opts.snapshotEvery && !this.snapshotting) {
      this.snapshotting = this.saveSnapshot()
        .catch(() => {
          this.extra.cacheErrors++;  // the rows are safe; the next open rebuilds from them
        })
        .finally(() => (this.snapshotting = undefined));
    }
  }

  private async saveSnapshot() {
    this.writesSinceSnapshot = 0;
    const bytes = core(() => this.core.snapshot(this.seq));
    await this.store.saveSnapshot({ seq: this.seq, bytes });
  }

  private async restore() {
    const snap = await this.store.loadSnapshot();
    if (snap && snap.seq === this.seq) {
      const ptr = this.m._malloc(snap.bytes.length);
      try {
        this.m.HEAPU8.set(snap.bytes, ptr);
        this.core.loadSnapshot(ptr, snap.bytes.length);
        return;
      } catch {
        // stale, corrupt or of another shape: the rows are the truth, rebuild from them
        this.core.clear();
      } finally {
        this.m._free(ptr);
      }
    }
    await this.store.scan((rows) => {
      for (const row of rows) this.restoreRow(row);
    });
    const now = this.clock();
    const dropped = [...core(() => this.core.purgeExpired(now)), ...core(() => this.core.enforceLimits(now))];
    if (dropped.length) await this.apply({ delete: dropped });
  }

  private restoreRow(row: CacheRow) {
    if (row.vector.length !== this.dimensions) return;
    core(() => {
      this.m.HEAPF32.set(row.vector, this.core.vectorBuffer() >> 2);
      this.core.restore(row, row.vector.length);
    });
  }
}

/** The default maxFalseHitRate of the 'learned' evaluator (see README, Hit quality). */
export const DEFAULT_MAX_FALSE_HIT_RATE = 0.05;
const DEFAULT_EVALUATOR_MODEL = new URL('./models/evaluator/model.bin', import.meta.url);

function checkVerifier(v: VerifierOptions | undefined) {
  if (v === undefined) return;
  const band = v?.band;
  if (typeof v?.fn !== 'function' || !Array.isArray(band) || band.length !== 2 || !(band[0] <= band[1]) || !band.every(Number.isFinite)) {
    throw new SemcacheError('INVALID_ARGUMENT', 'verifier needs { fn: async (query, cachedPrompt, cachedAnswer) => boolean, band: [lo, hi] } with lo <= hi');
  }
  checkNumber('verifier.timeoutMs', v.timeoutMs, 0);
}

function candidatesOf(r: CoreLookupResult): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; i < r.candidateIds.length; i++) out.push({ id: r.candidateIds[i]!, similarity: r.candidateSimilarities[i]! });
  return out;
}

async function probeDimensions(embedder: Embedder): Promise<number> {
  let out: ArrayLike<number>[];
  try {
    out = await embedder.embed(['dimension probe']);
  } catch (e) {
    throw new SemcacheError('EMBEDDER_FAILED', `the embedder failed on a probe text: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  const v = Array.isArray(out) ? out[0] : undefined;
  if (!v || typeof v.length !== 'number' || v.length < 1) {
    throw new SemcacheError('EMBEDDER_FAILED', 'the embedder returned no vector for a probe text: pass `dimensions`');
  }
  return v.length;
}

function checkNumber(name: string, v: unknown, min: number) {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new SemcacheError('INVALID_ARGUMENT', `${name} must be a finite number >= ${min}, got ${String(v)}`);
  }
}

const now = () => performance.now();
