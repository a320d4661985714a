import type { CacheCore, CoreLookupResult, EvaluatorModel, SemcacheCoreModule } from './wasm/semcache_core.mjs';
import { toEmbedder, withEmbedderDefaults, type EmbedFunction, type Embedder } from './embedder.js';
import { getOrComputeWith } from './compute.js';
import { SemcacheError, core, fromCore, throwIfAborted } from './errors.js';
import { fetchBytes } from './net.js';
import { nextTurn } from './platform.js';
import { scopeKey, type ScopeInput } from './scope.js';
import type { OpfsCacheOptions, OpfsSemanticCache } from './opfs.js';
import type { CacheRow, CacheStore, StoreBatch, StoreChanges } from './store.js';
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
  /** 'file' (Node): SQLite in `path`. ('opfs' is a browser worker: see OpfsCacheOptions.) */
  storage?: 'memory' | 'file';
  /** The database file for storage: 'file'. */
  path?: string;
  /** A corrupt database: 'error' (default) throws CORRUPT_DATABASE naming it; 'reset' starts fresh. */
  onCorrupt?: 'error' | 'reset';
  /** Also snapshot the index this many ms after a write (0 = off). Default 30,000. */
  snapshotIntervalMs?: number;
  /** Cosine similarity in [-1, 1] a match needs to be a hit. Default: the embedder's calibrated
   * `defaultThreshold`, else 0.9. */
  threshold?: number;
  /** 'cosine' (best match >= threshold), 'margin' (also beats the runner-up by `margin`) or
   * 'learned' (a trained model's probability that the two prompts ask the same thing, from the
   * cosine and lexical features — differing content words, numbers, negations, antonyms, names —
   * against a threshold calibrated for `maxFalseHitRate`; `threshold` is then not used).
   * Default: the embedder's calibrated evaluator when it has one and no `threshold` is given
   * (the bundled default model: 'learned' at maxFalseHitRate 0.02), else 'cosine'. */
  evaluator?: 'cosine' | 'margin' | 'learned';
  /** For 'learned': the share of non-duplicate questions allowed to hit, as calibrated on
   * held-out QQP pairs (e.g. 0.02 = 2%). Default 0.02. */
  maxFalseHitRate?: number;
  /** For 'learned': the model file (URL or bytes). Default: the bundled
   * dist/models/evaluator/model.bin (built by tools/train-evaluator.mjs). */
  evaluatorModel?: string | URL | Uint8Array;
  /** Embed the prompt's normalized form (Unicode NFKC, lower case, whitespace runs as one space:
   * the core's normalizePrompt), so rewordings that differ only in those ways are the same text.
   * The cached prompt keeps its original text. Default true. */
  normalize?: boolean;
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
  /** Index parameters. A scope's index is an exact scan up to `flatLimit` entries (default
   * 1024), then HNSW with M (16), efConstruction (100), efSearch (40). */
  index?: { M?: number; efConstruction?: number; efSearch?: number; flatLimit?: number };
  /** Longest prompt accepted, in UTF-16 code units. Default 32,768. */
  maxPromptChars?: number;
  /** Largest answer accepted, in UTF-8 bytes. Default 8 MiB. */
  maxAnswerBytes?: number;
  /** Scope for calls that pass none. Default: the empty scope. */
  scope?: ScopeInput;
  /** Rows written (puts and deletes) between background index snapshots; 0 = only on close(). Default 1000. */
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
  /** The prompt's embedding, computed elsewhere: the embedder is not called. */
  vector?: ArrayLike<number>;
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
type QueuedPut = {
  prompt: string;
  answer: string;
  scope: string;
  vector: Float32Array;
  ttl: number;
  answerBytes: number;
  metadata: unknown;
  resolve: (r: PutResult) => void;
  reject: (e: unknown) => void;
};

export class SemanticCache {
  private readonly embedder: Embedder;
  private readonly m: SemcacheCoreModule;
  private readonly core: CacheCore;
  private readonly store: CacheStore;
  private readonly opts: Required<Pick<SemanticCacheOptions, 'maxPromptChars' | 'maxAnswerBytes' | 'ttl' | 'snapshotEvery' | 'normalize'>>;
  private readonly clock: () => number;
  private readonly defaultScope: string;
  readonly dimensions: number;
  readonly threshold: number;
  private closed = false;
  private writes: Promise<unknown> = Promise.resolve();
  private touches = new Map<number, { id: number; lastAccess: number; hits: number; thresholdOffset?: number }>();
  private seq: number;
  private writesSinceSnapshot = 0;
  /** The seq of the snapshot the store holds (saved or loaded here), -1 when unknown or none. */
  private snapshotSeq = -1;
  private snapshotting?: Promise<void>;
  private snapshotTimer?: ReturnType<typeof setTimeout>;
  private queued: QueuedPut[] = [];
  private readonly snapshotIntervalMs: number;
  private readonly maxEntries: number;
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
    maxEntries: number;
  }) {
    const o = init.options;
    this.embedder = init.embedder;
    this.m = init.m;
    this.core = init.core;
    this.store = init.store;
    this.dimensions = init.dimensions;
    this.threshold = init.threshold;
    this.seq = init.seq;
    this.maxEntries = init.maxEntries;
    this.snapshotIntervalMs = o.snapshotIntervalMs ?? 30_000;
    this.verifier = o.verifier;
    this.evaluator = o.evaluator ?? 'cosine';
    this.clock = o.clock ?? Date.now;
    this.defaultScope = scopeKey(o.scope);
    this.opts = {
      maxPromptChars: o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS,
      maxAnswerBytes: o.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES,
      ttl: o.ttl ?? 0,
      snapshotEvery: o.snapshotEvery ?? 1000,
      normalize: o.normalize ?? true,
    };
  }

  /**
   * Loads the core, opens the store and restores its entries (from the snapshot when current).
   * With `storage: 'opfs'` (browsers) the cache lives in a dedicated worker on OPFS-backed SQLite
   * and the object returned is its proxy.
   */
  static open(options: OpfsCacheOptions): Promise<OpfsSemanticCache>;
  static open(options: SemanticCacheOptions): Promise<SemanticCache>;
  static async open(options: SemanticCacheOptions | OpfsCacheOptions): Promise<SemanticCache | OpfsSemanticCache> {
    if (!options || typeof options !== 'object') {
      throw new SemcacheError('INVALID_ARGUMENT', 'SemanticCache.open needs an options object with an embedder');
    }
    if (options.storage === 'opfs') return (await import('./opfs.js')).OpfsSemanticCache.open(options as OpfsCacheOptions);
    return SemanticCache.openLocal(options as SemanticCacheOptions);
  }

  private static async openLocal(options: SemanticCacheOptions): Promise<SemanticCache> {
    if (options.embedder === undefined) throw new SemcacheError('INVALID_ARGUMENT', 'options.embedder is required');
    const embedder = toEmbedder(options.embedder);
    options = withEmbedderDefaults(options, embedder);
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
      efSearch: options.index?.efSearch ?? 40,
      flatLimit: options.index?.flatLimit ?? 1024,
    } as const;
    const c = core(() => new m.CacheCore(cfg));
    const store = options.store ?? (await storeFor(options));
    try {
      return await SemanticCache.openOn(store, { embedder, m, c, options, dimensions, threshold, cfg });
    } catch (e) {
      // Damage met while restoring (rows or snapshot unreadable): start fresh if asked to.
      if ((e as SemcacheError)?.code !== 'CORRUPT_DATABASE' || options.onCorrupt !== 'reset') {
        c.delete();
        throw e;
      }
      await store.destroy();
      return await SemanticCache.openOn(store, { embedder, m, c, options, dimensions, threshold, cfg }).catch((e2: unknown) => {
        c.delete();
        throw e2;
      });
    }
  }

  private static async openOn(
    store: CacheStore,
    a: { embedder: Embedder; m: SemcacheCoreModule; c: CacheCore; options: SemanticCacheOptions; dimensions: number; threshold: number; cfg: { space: string; maxEntries: number } },
  ): Promise<SemanticCache> {
    const { embedder, m, c, options, dimensions, threshold, cfg } = a;
    c.clear();
    try {
      if (options.evaluator === 'learned') {
        const bytes = options.evaluatorModel instanceof Uint8Array ? options.evaluatorModel : await fetchBytes(options.evaluatorModel ?? defaultEvaluatorModel(), { cache: false });
        const ptr = m._malloc(bytes.length);
        try {
          m.HEAPU8.set(bytes, ptr);
          core(() => c.loadEvaluatorModel(ptr, bytes.length));
          checkModelEmbedder(core(() => new m.EvaluatorModel(ptr, bytes.length)), embedder);
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
      const cache = new SemanticCache({ embedder, m, core: c, store, options, dimensions, threshold, seq: opened.seq, maxEntries: cfg.maxEntries });
      await cache.restore();
      return cache;
    } catch (e) {
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
    const vector = await this.vectorOf(prompt, options);
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
    return getOrComputeWith<{ vector: Float32Array; scope: string }>(prompt, compute, options, {
      lookup: async () => {
        const r = await this.lookup(prompt, options);
        return r.result.hit ? { hit: r.result } : { miss: { vector: r.vector!, scope: this.scopeOf(options.scope) } };
      },
      store: async (answer, { vector, scope }) => {
        checkAnswer(answer, this.opts.maxAnswerBytes);
        return (await this.insert(prompt, answer, scope, vector, options)).id;
      },
      failure: (e) => {
        this.extra.cacheErrors++;
        return fromCore(e) as Error;
      },
    });
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

  /**
   * Writes pending access bookkeeping and a fresh index snapshot to the store. Nothing when
   * nothing changed since the store's snapshot (a cache opened and closed unchanged rewrites no
   * snapshot).
   */
  async flush(): Promise<void> {
    this.check();
    await this.flushWith(0);
  }

  /**
   * Writes pending bookkeeping, and a snapshot unless the store's is current or (replayLimit > 0)
   * behind by fewer than replayLimit changed rows, which an open replays instead.
   */
  private flushWith(replayLimit: number): Promise<void> {
    return this.write(async () => {
      await this.snapshotting?.catch(() => {});
      if (this.touches.size) await this.apply({});
      if (this.snapshotSeq === this.seq) return;
      const replayable = this.snapshotSeq >= 0 && !!this.store.changesSince && this.writesSinceSnapshot < replayLimit;
      if (!replayable) await this.saveSnapshot();
    });
  }

  /** Flushes, then releases the core and the store. Further calls throw CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // A few changed rows are cheaper to replay on the next open than a whole snapshot to
      // rewrite now (100k 384-d entries: ~176 MB for, say, one lookup's hit count).
      this.check();
      await this.flushWith(CLOSE_REPLAY_ROWS);
    } finally {
      this.closed = true;
      if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
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
    const vector = await this.vectorOf(prompt, options);
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

  private vectorOf(prompt: string, options: CallOptions): Promise<Float32Array> {
    if (options.vector === undefined) return this.embedOne(prompt, options.signal);
    throwIfAborted(options.signal);
    return Promise.resolve(checkVector(options.vector, this.dimensions, 'options.vector'));
  }

  private async embedOne(prompt: string, signal?: AbortSignal): Promise<Float32Array> {
    throwIfAborted(signal);
    const t = now();
    let out: ArrayLike<number>[];
    try {
      out = await this.embedder.embed([this.opts.normalize ? this.m.normalizePrompt(prompt) : prompt], { signal });
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
    return new Promise<PutResult>((resolve, reject) => {
      this.queued.push({ prompt, answer, scope, vector, ttl, answerBytes, metadata, resolve, reject });
      if (this.queued.length === 1) this.write(() => this.commitQueued());
    });
  }

  /**
   * Group commit: every put queued while the previous write was in flight (or within one
   * event-loop turn) goes into one store
   * batch (one transaction, one fsync). The batch is all-or-nothing, so on failure each of its
   * puts is rolled back and rejected.
   */
  private async commitQueued(): Promise<void> {
    // Stores commit synchronously underneath: wait one event-loop turn so that puts arriving as
    // separate events (concurrent callers, worker messages) join this batch.
    await nextTurn();
    const items = this.queued.splice(0);
    const done: { id: number; removed: number[]; result: PutResult; item: QueuedPut }[] = [];
    const rows = new Map<number, CacheRow>();
    const deleted: number[] = [];
    for (const it of items) {
      try {
        this.check();
        const t = this.clock();
        const r = core(() => {
          this.m.HEAPF32.set(it.vector, this.core.vectorBuffer() >> 2);
          return this.core.put(it.scope, it.prompt, it.vector.length, it.answerBytes, t, it.ttl);
        });
        const removed = [...r.evicted];
        if (r.replaced) removed.push(r.replaced);
        for (const id of removed) {
          this.touches.delete(id);
          // A row put earlier in this batch and already displaced never reaches the store.
          if (!rows.delete(id)) deleted.push(id);
        }
        rows.set(r.id, {
          id: r.id,
          scope: it.scope,
          prompt: it.prompt,
          promptHash: r.promptHash,
          answer: it.answer,
          answerBytes: it.answerBytes,
          vector: it.vector.slice(),
          created: t,
          lastAccess: t,
          expiresAt: it.ttl > 0 ? t + it.ttl : 0,
          hits: 0,
          metadata: it.metadata,
        });
        done.push({ id: r.id, removed, item: it, result: { id: r.id, evicted: r.evicted.length, replaced: r.replaced || null } });
      } catch (e) {
        it.reject(fromCore(e));
      }
    }
    if (!done.length) return;
    try {
      await this.apply({ put: [...rows.values()], delete: deleted });
    } catch (e) {
      for (let i = done.length - 1; i >= 0; i--) await this.rollback(done[i]!.id, done[i]!.removed);
      for (const d of done) d.item.reject(e);
      return;
    }
    for (const d of done) d.item.resolve(d.result);
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
      if ((e as SemcacheError)?.code !== 'QUOTA_EXCEEDED') throw storeError(e, this.store.kind);
      await this.applyAfterEviction(batch, e as SemcacheError);
    } finally {
      this.extra.storeMs += now() - t;
    }
    // Count rows, not batches: a group commit of 64 puts is 64 rows an open would have to replay.
    this.writesSinceSnapshot += Math.max(1, (batch.put?.length ?? 0) + (batch.delete?.length ?? 0) + (batch.touch?.length ?? 0));
    if (this.opts.snapshotEvery && this.writesSinceSnapshot >= this.opts.snapshotEvery) this.snapshotSoon();
    else if (this.snapshotIntervalMs && !this.snapshotTimer) {
      this.snapshotTimer = setTimeout(() => {
        this.snapshotTimer = undefined;
        if (!this.closed && this.writesSinceSnapshot) this.write(async () => this.snapshotSoon());
      }, this.snapshotIntervalMs);
      (this.snapshotTimer as { unref?: () => void }).unref?.();
    }
  }

  private snapshotSoon() {
    if (this.snapshotting || this.closed) return;
    this.snapshotting = this.saveSnapshot()
      .catch(() => {
        this.extra.cacheErrors++;  // the rows are safe; the next open rebuilds from them
      })
      .finally(() => (this.snapshotting = undefined));
  }

  /**
   * Storage is full: evict a tenth of the entries (by the eviction policy) and retry the batch once with those deletions. Still full: QUOTA_EXCEEDED, cache unchanged
   * beyond the evictions (which are then written when space allows).
   */
  private async applyAfterEviction(batch: StoreBatch, first: SemcacheError) {
    const keep = batch.put?.map((r) => r.id) ?? [];
    const n = this.core.stats().entries;
    const target = Math.max(0, Math.floor(n * 0.9) - keep.length);
    let evicted: number[] = [];
    try {
      core(() => this.core.configure({ maxEntries: Math.max(1, target) }));
      evicted = [...core(() => this.core.enforceLimits(this.clock()))].filter((id) => !keep.includes(id));
    } finally {
      core(() => this.core.configure({ maxEntries: this.maxEntries }));
    }
    try {
      this.seq = await this.store.apply({ ...batch, delete: [...(batch.delete ?? []), ...evicted] });
    } catch (e) {
      // Give the evictions their own chance to land so that core and store agree.
      if (evicted.length) await this.store.apply({ delete: evicted }).then((s) => (this.seq = s), () => {});
      throw new SemcacheError('QUOTA_EXCEEDED', `storage is full even after evicting ${evicted.length} of ${n} entries: ${(e as Error).message ?? first.message}`, { cause: e });
    }
  }

  private async saveSnapshot() {
    this.writesSinceSnapshot = 0;
    const seq = this.seq;
    const bytes = core(() => this.core.snapshot(seq));
    try {
      await this.store.saveSnapshot({ seq, bytes });
      this.snapshotSeq = seq;
    } catch (e) {
      // No room for the accelerator: the rows are complete, the next open replays or rebuilds.
      if ((e as SemcacheError)?.code !== 'QUOTA_EXCEEDED') throw e;
      this.extra.cacheErrors++;
    }
  }

  private async restore() {
    const snap = await this.readSnapshot();
    let loaded = false;
    let changes: StoreChanges | undefined;
    if (snap) {
      try {
        // A snapshot behind the rows is still useful when the store can list what changed since.
        changes = snap.seq < this.seq && this.store.changesSince ? await this.store.changesSince(snap.seq) : undefined;
        if (snap.seq === this.seq || changes) loaded = this.loadSnapshotAt(snap.ptr, snap.size);
      } finally {
        this.m._free(snap.ptr);
      }
    }
    if (loaded) {
      if (!changes) {
        this.snapshotSeq = this.seq;
        return;
      }
      for (const id of changes.deleted) this.core.remove(id);
      for (const row of changes.rows) {
        this.core.remove(row.id);
        this.restoreRow(row);
      }
      this.snapshotSeq = snap!.seq;
      this.writesSinceSnapshot = changes.rows.length + changes.deleted.length;
    } else {
      await this.store.scan((rows) => {
        for (const row of rows) this.restoreRow(row);
      });
    }
    const now = this.clock();
    const dropped = [...core(() => this.core.purgeExpired(now)), ...core(() => this.core.enforceLimits(now))];
    if (dropped.length) await this.apply({ delete: dropped });
  }

  /**
   * The store's snapshot copied into the core's heap (the caller frees ptr), or undefined when
   * there is none or it cannot serve (newer than the rows, or older with no change log). Stores
   * with loadSnapshotInto write their chunks straight into the heap: no whole copy in JS.
   */
  private async readSnapshot(): Promise<{ seq: number; ptr: number; size: number } | undefined> {
    const usable = (seq: number) => seq === this.seq || (seq < this.seq && !!this.store.changesSince);
    if (this.store.loadSnapshotInto) {
      let ptr = 0;
      let size = 0;
      const seq = await this.store.loadSnapshotInto((n, seq) => {
        if (!usable(seq)) return undefined;
        ptr = this.m._malloc(n);
        size = n;
        if (!ptr && n) throw new SemcacheError('OUT_OF_MEMORY', `no room for a ${n}-byte snapshot in the wasm heap`);
        return this.m.HEAPU8.subarray(ptr, ptr + n);
      }).catch((e: unknown) => {
        if (ptr) this.m._free(ptr);
        throw e;
      });
      if (seq === undefined) {
        if (ptr) this.m._free(ptr);
        return undefined;
      }
      return { seq, ptr, size };
    }
    const snap = await this.store.loadSnapshot();
    if (!snap || !usable(snap.seq)) return undefined;
    const ptr = this.m._malloc(snap.bytes.length);
    this.m.HEAPU8.set(snap.bytes, ptr);
    return { seq: snap.seq, ptr, size: snap.bytes.length };
  }

  /** False when the snapshot is corrupt or of another shape: the rows are the truth then. */
  private loadSnapshotAt(ptr: number, size: number): boolean {
    try {
      this.core.loadSnapshot(ptr, size);
      return true;
    } catch {
      this.core.clear();
      return false;
    }
  }

  private restoreRow(row: CacheRow) {
    if (row.vector.length !== this.dimensions) return;
    core(() => {
      this.m.HEAPF32.set(row.vector, this.core.vectorBuffer() >> 2);
      this.core.restore(row, row.vector.length);
    });
  }
}

function storeError(e: unknown, kind: string): SemcacheError {
  return e instanceof SemcacheError ? e : new SemcacheError('STORE_FAILED', `the ${kind} store failed: ${(e as Error)?.message ?? e}`, { cause: e });
}

type StoreFactory = (options: SemanticCacheOptions) => CacheStore | Promise<CacheStore>;
const storages = new Map<string, StoreFactory>([['memory', () => new MemoryStore()]]);

/** Lets an entry point add a storage kind (the Node entry adds 'file'). */
export function registerStorage(kind: string, make: StoreFactory): void {
  storages.set(kind, make);
}

async function storeFor(options: SemanticCacheOptions): Promise<CacheStore> {
  const kind = options.storage ?? 'memory';
  const make = storages.get(kind);
  if (!make) {
    throw new SemcacheError('INVALID_ARGUMENT', `storage '${String(kind)}' is not available here (${kind === 'file' ? "it needs Node: import 'semcache' there" : "use 'memory', 'file' (Node) or 'opfs' (browser)"})`);
  }
  return make(options);
}

/** close() leaves the snapshot as it is when fewer rows than this changed since (replayed on open). */
const CLOSE_REPLAY_ROWS = 64;

/** A model with a projection was fitted to one encoder's vector space: cos(P u, P v) over any other
 * encoder's vectors of the same size would be a meaningless feature, so such a pair is refused. */
function checkModelEmbedder(model: EvaluatorModel, embedder: Embedder): void {
  try {
    if (model.projRows() === 0) return;
    let family: unknown;
    try {
      family = JSON.parse(model.info() || '{}').embedderFamily;
    } catch {
      return;  // a hand-made model's free-form info
    }
    const id = embedder.id ?? '';
    // ids are NAME@sha or NAME-q8@sha: 'use-lite' must not pass for 'use-lite-cache'
    const sameModel = (f: string) => id === f || id.startsWith(`${f}@`) || id.startsWith(`${f}-q8@`);
    if (typeof family === 'string' && family && !sameModel(family)) {
      throw new SemcacheError(
        'INVALID_ARGUMENT',
        `the evaluator model was trained on '${family}' embeddings (its projection is fitted to them), this cache embeds with '${id || 'an unnamed embedder'}': use the '${family}' embedder or a model trained for yours (tools/train-evaluator.mjs)`,
      );
    }
  } finally {
    model.delete();
  }
}

/** The default maxFalseHitRate of the 'learned' evaluator (see README, Hit quality). */
export const DEFAULT_MAX_FALSE_HIT_RATE = 0.02;
// Resolved on use: workerd leaves import.meta.url undefined, and a module-level `new URL` would
// stop the whole worker from loading (edge workers pass `evaluatorModel` bytes instead).
function defaultEvaluatorModel(): URL {
  if (!import.meta.url) throw new SemcacheError('INVALID_ARGUMENT', "evaluator 'learned' needs `evaluatorModel` (its bytes or URL) here");
  return new URL('./models/evaluator/model.bin', import.meta.url);
}

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
