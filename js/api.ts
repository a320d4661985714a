// The public contract: options, results, stats, and the one interface that every cache object
// implements (the in-process SemanticCache and the OPFS proxy of a cache in a worker). Types only:
// every other module may import this one, and it imports no implementation.
import type { Embedder, EmbedFunction } from './embedder.js';
import type { SemcacheError } from './errors.js';
import type { ScopeInput } from './scope.js';
import type { WorkerEmbedderOptions } from './worker-embedder.js';

export type { WorkerEmbedderOptions };
import type { CacheStore } from './store.js';
import type { LoadCoreOptions } from './wasm.js';

/** Options of SemanticCache.open. Defaults that the wasm core applies come from the core itself
 * (CacheCore.defaults(); js/options.ts): the figures below are those. */
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
   * (see Embedder.defaultEvaluator), else 'cosine'. */
  evaluator?: 'cosine' | 'margin' | 'learned';
  /** For 'learned': the share of non-duplicate questions allowed to hit, as calibrated on
   * held-out QQP pairs (e.g. 0.02 = 2%). Default 0.02. */
  maxFalseHitRate?: number;
  /** For 'learned': the model file (URL or bytes). Default: the bundled
   * dist/models/evaluator/model.bin (built by tools/train-evaluator.mjs). */
  evaluatorModel?: string | URL | Uint8Array;
  /** Embed the prompt's normalized form (the core's normalizePrompt: Unicode NFKC, lower case,
   * whitespace runs as one space, quotes and the sentence marks at the ends dropped), so
   * rewordings that differ only in those ways are the same text. The cached prompt keeps its
   * original text. Default true. */
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
   * 1024), then HNSW with M (16; 32 when `maxEntries` is above 250,000 or 0, since at a million
   * entries the wider graph finds the best match far more often at the same search time),
   * efConstruction (200), efSearch (0: it grows with the scope's size, 40 up to 100k entries, 200
   * at 1M, at most 512; a number fixes it). A scope keeps the M it was created with. */
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
  /** A miss whose prompt would hit a prompt whose LLM call is still running (same scope, same
   * evaluator) waits for that answer instead of calling the LLM too (getOrCompute, begin): at
   * most this long for each piece of it, then it calls the LLM itself; 0 = never wait.
   * Default 60,000. */
  joinWaitMs?: number;
  /** A second tier asked after a local miss (GPTCache's next_cache, across the network): another
   * cache, or `remoteCache({ url })` for a semcache server or edge worker. Its hits are returned
   * and copied into this cache; getOrCompute's answers are written through to it when it takes
   * writes. Only scopes that `share` calls 'shared' ever reach it. Default: none. */
  next?: NextCache;
  /** Which scopes may reach `next`: 'shared' (looked up there, written through) or 'private'
   * (never leave this cache: neither the prompt nor the answer), for every scope or per scope as
   * a function of the call's scope. Default 'shared' (giving `next` opts in). */
  share?: SharePolicy | ((scope: ScopeInput) => SharePolicy);
}

/** The scope policy of tiers: 'private' never leaves this cache, 'shared' goes to `next`. */
export type SharePolicy = 'private' | 'shared';

/** What a cache needs of its `next` tier: lookups, and writes when it takes them (a next
 * without `put` is read-only: nothing is written through). Any SemanticCacheApi qualifies. */
export interface NextCache {
  get(prompt: string, options?: GetOptions): Promise<GetResult>;
  put?(prompt: string, answer: string, options?: PutOptions): Promise<PutResult>;
}

export interface VerifierOptions {
  /** true = hit. `signal` aborts when the time budget is spent (the lookup is then a miss). */
  fn: (query: string, cachedPrompt: string, cachedAnswer: string, options: { signal: AbortSignal }) => Promise<boolean> | boolean;
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

export interface GetOrComputeOptions extends PutOptions, GetOptions {
  /** Called with any cache error (the call itself still answers through compute). */
  onCacheError?: (error: Error) => void;
}

export interface ClearOptions {
  /** Only this scope's entries. Default: every entry. */
  scope?: ScopeInput;
}

export interface EntriesOptions {
  /** Only this scope's entries. Default: every scope. */
  scope?: ScopeInput;
  /** Default 100. */
  limit?: number;
  /** Entries to skip (newest first). Default 0. */
  offset?: number;
}

export interface ExportOptions {
  /** Only this scope's entries. Default: every entry. */
  scope?: ScopeInput;
  /** Only entries whose scope names this tenant (the server exports the caller's). */
  tenant?: string;
}

export interface ImportOptions {
  /** Put every entry in this scope instead of the one it was exported from. */
  scope?: ScopeInput;
  /** Put every entry under this tenant (its scope's `tenant` replaced); the server passes the caller's. */
  tenant?: string;
  signal?: AbortSignal;
}

export interface ImportResult {
  /** Entries now in this cache. */
  imported: number;
  /** Entries of the file that had expired by the time they were read (not imported). */
  expired: number;
}

/** What cache.import reads: a web stream (a fetch body, Blob.stream(), a Node file through
 * Readable.toWeb), an async iterable of byte chunks (a Node stream), a Blob, or bytes. */
export type ImportSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Blob | Uint8Array | ArrayBuffer;

/** What getOrCompute calls on a miss: the LLM. */
export type ComputeFunction = (prompt: string, options: { signal?: AbortSignal }) => Promise<string> | string;

export interface Candidate {
  id: number;
  similarity: number;
}

export interface Timings {
  embedMs: number;
  searchMs: number;
  storeMs: number;
  totalMs: number;
  /** Time spent asking the `next` tier, when it was asked. */
  nextMs?: number;
  /** OPFS caches: the worker's own time for the lookup. The rest of `totalMs` (less a page
   * embedding's `embedMs`) is the round trip to the worker and this page's part of the call. */
  workerMs?: number;
}

export interface GetHit {
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
  /** Which tier answered: this cache ('local') or its `next` (then `id` is the local copy's,
   * or next's own when the copy could not be written, and `cacheError` says why). */
  tier: 'local' | 'next';
  /** Set when asking `next` or copying its answer here failed; the result stands. */
  cacheError?: SemcacheError | Error;
}

export interface GetMiss {
  hit: false;
  /** Cosine of the nearest entry in scope, or null when the scope is empty. */
  similarity: number | null;
  /** The evaluator's score for that entry, or null when the scope is empty. */
  score: number | null;
  /** True when the verifier was asked (and said no, failed or timed out). */
  verified?: boolean;
  candidates: Candidate[];
  timings: Timings;
  /** Set when `next` could not be asked (down, timed out, refused): a miss, never a failure. */
  cacheError?: SemcacheError | Error;
}

export type GetResult = GetHit | GetMiss;

export interface PutResult {
  id: number;
  /** Entries removed to respect maxEntries/maxBytes/TTL. */
  evicted: number;
  /** The older entry with the same prompt in the same scope, now replaced. */
  replaced: number | null;
  /** Set when writing through to `next` failed (the local put stands). */
  cacheError?: SemcacheError | Error;
}

export interface ComputeResult {
  answer: string;
  hit: boolean;
  similarity: number | null;
  id: number | null;
  /** Who answered: this cache, its `next` tier, or compute (a miss everywhere it asked). */
  tier: 'local' | 'next' | 'compute';
  /** The answer is that of a similar call that was in flight (this one waited for it; compute was
   * not called): `hit` is true and `similarity` is to that call's prompt. */
  joined?: boolean;
  /** Set when the cache failed (a tier could not be asked or written): the answer then came from
   * the next tier or compute, or, on a hit, its local copy could not be written. */
  cacheError?: SemcacheError | Error;
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
  /** The embedder's id (what an export file carries and an import must match). */
  embedder: string;
  /** The `next` tier, when there is one: lookups sent to it, its hits, failures (lookups and
   * writes), and answers written through to it. */
  next?: { lookups: number; hits: number; errors: number; writes: number };
  /** Browser storage (OPFS caches): the origin's usage and quota (navigator.storage.estimate()),
   * this cache's byte budget (storageShare of the quota), the database's bytes in use, whether
   * the origin's storage is persistent, and entries evicted to stay within the budget. */
  storage?: { usage: number; quota: number; budget: number; databaseBytes: number; persisted: boolean; budgetEvictions: number };
  /** OPFS caches with semanticOnPage: whether this page decides semantic hits on its copy of the
   * entries ('ready'), is making it ('loading'), or leaves them to the worker ('off', `reason`). */
  semanticOnPage?: { state: 'loading' | 'ready' | 'off'; entries: number; reason?: string };
  /** Size of the wasm core's memory (vectors, index, entry metadata; it grows, never shrinks). */
  wasmHeapBytes: number;
}

/**
 * A semantic cache, wherever it runs: SemanticCache (in this thread) and the OPFS proxy both
 * implement this, so code written against it (servers, adapters) takes either.
 */
export interface SemanticCacheApi {
  readonly dimensions: number;
  /** The cosine threshold lookups use when they pass none. */
  readonly threshold: number;
  /** Looks a prompt up: an exact prompt match first (no embedding), then by meaning. */
  get(prompt: string, options?: GetOptions): Promise<GetResult>;
  /** Stores an answer. Resolves when the store has it (durably, for a persistent store). */
  put(prompt: string, answer: string, options?: PutOptions): Promise<PutResult>;
  /** The cached answer if there is one, else compute's, which is then cached. A cache failure
   * never fails the call: it falls through to compute and is reported in `cacheError`. */
  getOrCompute(prompt: string, compute: ComputeFunction, options?: GetOrComputeOptions): Promise<ComputeResult>;
  /** Tells the cache whether a hit was right (per-entry thresholds); resolves the new offset. */
  feedback(id: number, verdict: { correct: boolean }): Promise<FeedbackResult>;
  /** Removes one entry by id. Resolves true if it existed. */
  delete(id: number): Promise<boolean>;
  /** Removes every entry, or only those of one scope. Resolves with how many were removed. */
  clear(options?: ClearOptions): Promise<number>;
  /** Entries with their prompts and answers, newest first (for UIs and debugging). */
  entries(options?: EntriesOptions): Promise<EntryInfo[]>;
  stats(): Promise<SemanticCacheStats>;
  /** The entries (all, or one scope's or tenant's) as a versioned, checksummed export file with
   * their vectors and the embedder's id, produced as it is read. */
  export(options?: ExportOptions): ReadableStream<Uint8Array>;
  /** Reads an export file into this cache. Refuses a file of another embedder or dimension
   * (STORE_MISMATCH) before writing anything, and a truncated or damaged one (CORRUPT_EXPORT) or
   * one of a newer format (UNSUPPORTED_VERSION) as a whole: what it had written is taken back. */
  import(source: ImportSource, options?: ImportOptions): Promise<ImportResult>;
  /** Writes pending bookkeeping and a fresh index snapshot to the store. */
  flush(): Promise<void>;
  /** Flushes, then releases everything. Further calls throw CLOSED. */
  close(): Promise<void>;
}
