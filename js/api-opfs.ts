// The public contract of a cache in a browser worker on OPFS (SemanticCache.open({storage:
// 'opfs'})): its options and its proxy's interface. Types only, like api.ts, whose contract it
// extends.
import type { SemanticCacheApi, SemanticCacheOptions } from './api.js';
import type { Embedder, EmbedFunction } from './embedder.js';
import type { WorkerEmbedderOptions } from './worker-embedder.js';

/** SemanticCache.open({storage: 'opfs', name}) in a browser page: the cache runs in a dedicated
 * worker on SQLite in OPFS; the object returned (an OpfsCache) is its proxy. */
export interface OpfsCacheOptions extends Omit<SemanticCacheOptions, 'store' | 'storage' | 'path' | 'clock' | 'wasm' | 'embedder'> {
  storage: 'opfs';
  /** Embed on this page (calls carry their vector to the worker); or give `workerEmbedder`. */
  embedder?: Embedder | EmbedFunction;
  /** Embed in the cache's worker (an ONNX model, the bundled one by default): a lookup is one
   * round trip, an exact repeat embeds nothing, the model never runs on this page's thread. */
  workerEmbedder?: WorkerEmbedderOptions;
  /** The share of the origin's storage quota (navigator.storage.estimate()) this cache's files
   * may take, in (0, 1]. Past it the worker evicts entries by the eviction policy down to 90% of
   * it, so writes keep fitting as the quota shrinks (it follows free disk space). Default 0.5. */
  storageShare?: number;
  /** Ask the browser to keep this origin's storage under pressure (navigator.storage.persist()),
   * instead of evicting the whole origin. Chromium and Safari decide silently; Firefox asks the
   * user. Default true. */
  persist?: boolean;
  /** Answer exact (normalized) repeats on this page, without a message to the worker, from the
   * answers it has put or exact-hit (at most `maxEntries`, default 1000, and `maxBytes` of text,
   * default 4 MiB; least recently used out). What leaves the cache leaves it: this page's own
   * delete/clear/put at once, other tabs' changes, evictions and expiries one message later.
   * Its hits count in stats(). Loads the core's wasm on this page. Default true. */
  exactOnPage?: boolean | { maxEntries?: number; maxBytes?: number };
  /** Decide semantic hits on this page, without a message to the worker, from a copy of the
   * cache's entries (vectors, prompts, answers) that this page keeps in memory and the worker
   * keeps current (js/opfs-page-index.ts): a hit then costs the embedding plus a search here.
   * Kept while the cache holds at most `maxEntries` entries (default 10,000) and `maxBytes` of
   * prompt and answer text (default 32 MiB); past them, or when another tab owns the worker with
   * other decision options, the worker decides (`stats().semanticOnPage` says which and why).
   * Misses still go to the worker. Other tabs' changes reach the copy one message later; this
   * page's own delete/clear at once. Needs `embedder` (the page embeds). Default true then. */
  semanticOnPage?: boolean | { maxEntries?: number; maxBytes?: number };
  /** The cache's name: one SQLite database (and one OPFS pool directory) per name and origin. */
  name: string;
  /** The worker script. Default: dist/workers/opfs-worker.js next to this module. */
  workerUrl?: string | URL;
  /** Where the worker imports @sqlite.org/sqlite-wasm from, for pages without a bundler. */
  sqliteUrl?: string;
}

/** The OPFS proxy: the cache interface plus what only a worker-held SQLite database has. */
export interface OpfsCache extends SemanticCacheApi {
  /** Whether this tab runs the worker (tests and UIs). */
  readonly isOwner: boolean;
  /** SQLite's PRAGMA integrity_check on the database: 'ok' when sound. */
  integrityCheck(): Promise<string>;
  /** Rows in the database (not the index): what survived. */
  rowCount(): Promise<number>;
  /** The SQLite database's size in bytes. */
  databaseBytes(): Promise<number>;
  /** Kills the worker without closing anything, as a crash would (tests). */
  terminateWorker(): void;
}
