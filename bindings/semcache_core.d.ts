// Types of the Embind module built from bindings/*.cpp (dist/wasm/semcache_core.mjs); each
// bindings file's classes are declared in its own .d.ts (text.d.ts, …) and joined here.
// Emscripten 3.1.6 cannot emit these; tests/js/bindings-dts.test.ts checks that every class,
// method and static function declared exists in the module and that nothing bound is missing.
import type { Gpt2Module } from './gpt2.js';
import type { TextModule } from './text.js';

export interface SemcacheCoreError {
  name: 'SemcacheError';
  /** One of src/common/error.h's codes (documented in js/errors.ts). */
  code: string;
  message: string;
}

export interface CoreConfig {
  dimensions?: number;
  space?: 'f32' | 'int8';
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  seed?: number;
  flatLimit?: number;
  eviction?: 'lru' | 'lfu' | 'fifo';
  maxEntries?: number;
  maxBytes?: number;
  evictFraction?: number;
  threshold?: number;
  evaluator?: 'cosine' | 'margin' | 'learned';
  margin?: number;
  maxFalseHitRate?: number;
  candidates?: number;
  /** Exact-match keys hash the prompt's normalized form (normalizePrompt). Fixed at creation. Default true. */
  normalizedKeys?: boolean;
}

export interface CoreLookupResult {
  hit: boolean;
  exact: boolean;
  id: number;
  similarity: number;
  score: number;
  candidateIds: Uint32Array;
  candidateSimilarities: Float32Array;
  expired: Uint32Array;
  searchMs: number;
  evaluateMs: number;
}

export interface CorePutResult {
  id: number;
  replaced: number;
  evicted: Uint32Array;
  promptHash: string;
}

export interface CoreRow {
  id: number;
  scope: string;
  prompt: string;
  answerBytes: number;
  created: number;
  lastAccess: number;
  expiresAt: number;
  hits: number;
  thresholdOffset?: number;
}

export interface CoreEntry {
  id: number;
  scope: string;
  promptHash: string;
  answerBytes: number;
  created: number;
  lastAccess: number;
  expiresAt: number;
  hits: number;
  thresholdOffset: number;
  lastScore: number;
}

export interface CoreStats {
  lookups: number;
  hits: number;
  exactHits: number;
  misses: number;
  puts: number;
  evictions: number;
  expirations: number;
  removals: number;
  entries: number;
  bytes: number;
  scopes: number;
  searchMs: number;
  evaluateMs: number;
  putMs: number;
  evictMs: number;
}

export interface CacheCore {
  vectorBuffer(): number;
  dimensions(): number;
  lookupExact(scope: string, prompt: string, now: number): CoreLookupResult;
  lookup(scope: string, prompt: string, n: number, now: number, options: { threshold?: number; k?: number; ef?: number }): CoreLookupResult;
  put(scope: string, prompt: string, n: number, answerBytes: number, now: number, ttlMs: number): CorePutResult;
  restore(row: CoreRow, n: number): void;
  remove(id: number): boolean;
  feedback(id: number, correct: boolean): number;
  /** A semantic hit decided on a copy of the entries (a page's): counted and recorded here. False when the entry is gone or expired. */
  noteHit(id: number, score: number, now: number): boolean;
  loadEvaluatorModel(ptr: number, size: number): void;
  baseThreshold(): number;
  clearScope(scope: string): Uint32Array;
  clear(): void;
  purgeExpired(now: number): Uint32Array;
  enforceLimits(now: number): Uint32Array;
  /** Removes up to n entries whatever the limits: expired ones first, then by the eviction
   * policy, never those in `protect`. Returns their ids. */
  evict(n: number, now: number, protect?: ArrayLike<number>): Uint32Array;
  configure(config: CoreConfig): void;
  /** The configuration in force, every field set. */
  config(): Required<CoreConfig>;
  entry(id: number): CoreEntry | null;
  ids(scope: string): Uint32Array;
  vector(id: number): Float32Array;
  stats(): CoreStats;
  snapshot(seq: number): Uint8Array;
  loadSnapshot(ptr: number, size: number): number;
  /** Starts a snapshot written in slices (one at a time; a new one replaces it). */
  snapshotBegin(): void;
  /** The next slice (about maxBytes); `done` on the last one, stamped with seq. ABORTED after a clear(). */
  snapshotNext(maxBytes: number, seq: number): { bytes: Uint8Array; done: boolean };
  /** snapshotNext's slice as a view into wasm memory, valid until the next call into the core. */
  snapshotNextView(maxBytes: number, seq: number): { bytes: Uint8Array; done: boolean };
  snapshotAbort(): void;
  /** Loading a snapshot of totalBytes as a stream: push chunks (copied into wasm memory) in order, then finish. */
  loadBegin(totalBytes: number): void;
  loadPush(ptr: number, size: number): void;
  /** Validates and replaces the cache's state; returns the snapshot's seq. */
  loadFinish(): number;
  loadAbort(): void;
  delete(): void;
}

export interface CacheCoreConstructor {
  new (config: CoreConfig): CacheCore;
  hashPrompt(prompt: string): string;
  /** Every field's default (src/cache/cache.h CacheConfig): the defaults of SemanticCache too. */
  defaults(): Required<CoreConfig>;
}

export interface EvaluatorWeights {
  hidden: number;
  mean: number[];
  std: number[];
  w1: number[];
  b1: number[];
  w2?: number[];
  b2?: number;
  calibration: { falseHitRate: number; threshold: number }[];
  info?: string;
  embA?: number[];
  embB?: number[];
  /** Bit f set: feature f > 0 forces probability 0. */
  vetoes?: number;
}

export interface EvaluatorModel {
  /** q, c: the two unit embeddings, required when the model has a projection (projRows() > 0). */
  features(query: string, cached: string, cosine: number, margin: number, q: ArrayLike<number> | null, c: ArrayLike<number> | null): Float32Array;
  predict(query: string, cached: string, cosine: number, margin: number): number;
  predictFeatures(features: ArrayLike<number>, q: ArrayLike<number> | null, c: ArrayLike<number> | null): number;
  embDim(): number;
  thresholdFor(falseHitRate: number): number;
  hasWeights(): boolean;
  vocabulary(): number;
  info(): string;
  withWeights(weights: EvaluatorWeights): Uint8Array;
  /** This model's bytes with the projection P (rows x cols, row-major) installed, as int8 rows. */
  withProjection(rows: number, cols: number, p: ArrayLike<number>): Uint8Array;
  projRows(): number;
  delete(): void;
}

export interface EvaluatorModelConstructor {
  new (ptr: number, size: number): EvaluatorModel;
  fromCorpus(docs: string, minDf: number): Uint8Array;
  featureNames(): string[];
}

export interface SemcacheCoreModule extends TextModule, Gpt2Module {
  CacheCore: CacheCoreConstructor;
  EvaluatorModel: EvaluatorModelConstructor;
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
}

export interface SemcacheCoreOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void,
  ) => object;
  locateFile?: (path: string, prefix: string) => string;
  print?: (s: string) => void;
  printErr?: (s: string) => void;
}

declare function createSemcacheCore(options?: SemcacheCoreOptions): Promise<SemcacheCoreModule>;
export default createSemcacheCore;
