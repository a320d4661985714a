// Types of the Embind module built from bindings/*.cpp (dist/wasm/semcache_core.mjs).
// Emscripten 3.1.6 cannot emit these; tests/js/bindings-dts.test.ts checks that every class,
// method and static function declared here exists in the module and that nothing bound is
// missing from here.

export interface SemcacheCoreError {
  name: 'SemcacheError';
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
  eviction?: 'lru' | 'lfu' | 'fifo';
  maxEntries?: number;
  maxBytes?: number;
  evictFraction?: number;
  threshold?: number;
  evaluator?: 'cosine' | 'margin';
  margin?: number;
  candidates?: number;
}

export interface CoreLookupResult {
  hit: boolean;
  exact: boolean;
  id: number;
  similarity: number;
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
  lookup(scope: string, n: number, now: number, options: { threshold?: number; k?: number; ef?: number }): CoreLookupResult;
  put(scope: string, prompt: string, n: number, answerBytes: number, now: number, ttlMs: number): CorePutResult;
  restore(row: CoreRow, n: number): void;
  remove(id: number): boolean;
  clearScope(scope: string): Uint32Array;
  clear(): void;
  purgeExpired(now: number): Uint32Array;
  enforceLimits(now: number): Uint32Array;
  configure(config: CoreConfig): void;
  entry(id: number): CoreEntry | null;
  ids(scope: string): Uint32Array;
  vector(id: number): Float32Array;
  stats(): CoreStats;
  snapshot(seq: number): Uint8Array;
  loadSnapshot(ptr: number, size: number): number;
  delete(): void;
}

export interface CacheCoreConstructor {
  new (config: CoreConfig): CacheCore;
  hashPrompt(prompt: string): string;
}

// ---- GPT-2 (bindings/gpt2_bindings.cpp). Every call may throw {name: 'SemcacheError', code,
// message}; codes: CORRUPT_MODEL, UNSUPPORTED_MODEL, INVALID_ARGUMENT, CONTEXT_FULL, OUT_OF_MEMORY.

export type Gpt2WeightFormat = 'f32' | 'f16' | 'int8';
export type Gpt2Overflow = 'stop' | 'slide';

export interface Gpt2ModelConfig {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
}

export interface Gpt2SamplingOptions {
  /** <= 0: greedy. Default 1. */
  temperature?: number;
  /** 0: no limit; 1: greedy. Default 0. */
  topK?: number;
  /** (0, 1]. Default 1. */
  topP?: number;
}

export interface Gpt2Tokenizer {
  /** GPT-2 byte-level BPE; equal to gpt-3-encoder's encode (returns a copy). */
  encode(text: string): Int32Array;
  /** Equal to gpt-3-encoder's decode (invalid UTF-8 -> U+FFFD, leading BOM dropped). */
  decode(ids: ArrayLike<number>): string;
  vocabSize(): number;
  delete(): void;
}

export interface Gpt2TokenizerConstructor {
  /** The contents of encoder.json and vocab.bpe. */
  new (encoderJson: string, vocabBpe: string): Gpt2Tokenizer;
}

export interface Gpt2Model {
  config(): Gpt2ModelConfig;
  format(): Gpt2WeightFormat;
  weightBytes(): number;
  setKvCache(on: boolean): void;
  kvCache(): boolean;
  setOverflow(overflow: Gpt2Overflow): void;
  overflow(): Gpt2Overflow;
  setSeed(seed: number): void;
  /** Starts a sequence. The returned logits view wasm memory: valid until the next call. */
  prefill(ids: ArrayLike<number>): Float32Array;
  /** Appends one token; returns the next logits (a view, as for prefill). */
  step(token: number): Float32Array;
  /** The current logits (a view). */
  logits(): Float32Array;
  /** Draws a token from the current logits without appending it. */
  sample(options?: Gpt2SamplingOptions): number;
  /** sample() then step(); returns the token. Throws CONTEXT_FULL under 'stop' when contextFull(). */
  generateOne(options?: Gpt2SamplingOptions): number;
  contextFull(): boolean;
  length(): number;
  /** The current sequence (a copy). */
  tokens(): Int32Array;
  delete(): void;
}

export interface Gpt2ModelConstructor {
  /**
   * `ptr`/`size`: model.safetensors bytes the caller copied into memory from `_malloc`
   * (`HEAPU8.set(bytes, ptr)`); the weights are converted into the model's own allocation, so the
   * caller `_free`s them right after.
   */
  load(ptr: number, size: number, configJson: string, format: Gpt2WeightFormat): Gpt2Model;
  /** GPT-2-style random initialisation (seeded), for benchmarks. Omitted sizes are GPT-2 124M's. */
  random(config: Partial<Gpt2ModelConfig>, seed: number, format: Gpt2WeightFormat): Gpt2Model;
}

export interface SemcacheCoreModule {
  CacheCore: CacheCoreConstructor;
  Gpt2Tokenizer: Gpt2TokenizerConstructor;
  Gpt2Model: Gpt2ModelConstructor;
  /** The first n outputs of the GPT-2 sampler's PCG32 for a seed (same natively and in wasm). */
  gpt2RngStream(seed: number, n: number): Uint32Array;
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
