// Where SemanticCache.open({storage}) puts a cache. A kind either makes a store for a cache in
// this thread ('memory'; 'file', added by the Node entry) or opens a cache that runs elsewhere and
// returns its proxy ('opfs': a dedicated worker, loaded on first use).
import type { SemanticCacheApi, SemanticCacheOptions } from './api.js';
import type { OpfsCacheOptions } from './api-opfs.js';
import { SemcacheError } from './errors.js';
import type { CacheStore } from './store.js';
import { MemoryStore } from './stores/memory.js';

export type Storage =
  /** The cache runs here, on the store this makes. */
  | { store: (options: SemanticCacheOptions) => CacheStore | Promise<CacheStore> }
  /** The cache runs elsewhere: this opens it and returns its proxy (`openHere` opens a cache in
   * this thread, SemanticCache.open, for what the proxy keeps itself). */
  | { open: (options: OpfsCacheOptions, openHere: (options: SemanticCacheOptions) => Promise<SemanticCacheApi>) => Promise<SemanticCacheApi> };

const storages = new Map<string, Storage>([
  ['memory', { store: () => new MemoryStore() }],
  ['opfs', { open: async (o, openHere) => (await import('./opfs.js')).OpfsSemanticCache.open(o, openHere) }],
]);

/** Lets an entry point add a storage kind (the Node entry adds 'file'). */
export function registerStorage(kind: string, storage: Storage): void {
  storages.set(kind, storage);
}

export function storageFor(kind: string | undefined): Storage {
  const k = kind ?? 'memory';
  const s = storages.get(k);
  if (!s) {
    throw new SemcacheError('INVALID_ARGUMENT', `storage '${String(k)}' is not available here (${k === 'file' ? "it needs Node: import 'semcache' there" : "use 'memory', 'file' (Node) or 'opfs' (browser)"})`);
  }
  return s;
}
