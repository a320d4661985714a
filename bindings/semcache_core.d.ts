// Types of the Embind module built from bindings/*.cpp (dist/wasm/semcache_core.mjs); each
// bindings file's classes are declared in its own .d.ts (text.d.ts, …) and joined here.
// Emscripten 3.1.6 cannot emit these; tests/js/bindings-dts.test.ts checks that every class,
// method and static function declared exists in the module and that nothing bound is missing.
import type { Gpt2Module } from './gpt2.js';
import type { TextModule } from './text.js';

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
  flatLimit?: number;
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

export interface SemcacheCoreModule extends TextModule, Gpt2Module {
  CacheCore: CacheCoreConstructor;
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
