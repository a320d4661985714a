// What an in-process cache reports about itself: stats() from the core's counters and the
// cache's own, and entries() from the core's ids and the store's rows.
import type { EntriesOptions, EntryInfo, SemanticCacheStats } from './api.js';
import type { Embedding } from './embedding.js';
import { core } from './errors.js';
import type { CacheStore } from './store.js';
import type { CoreRef, WriteCounts } from './writer.js';

/** The figures that come from the cache's configuration rather than the core. */
type Described = Pick<SemanticCacheStats, 'evaluator' | 'store' | 'threshold' | 'embedder' | 'next'>;

export function cacheStats(c: CoreRef, n: WriteCounts & { verifierCalls: number; verifierErrors: number; verifierTimeouts: number }, embedding: Embedding, d: Described): SemanticCacheStats {
  const s = c.core.stats();
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
    time: { embedMs: embedding.ms, searchMs: s.searchMs, evaluateMs: s.evaluateMs, storeMs: n.storeMs, evictMs: s.evictMs },
    embedCalls: embedding.calls,
    cacheErrors: n.cacheErrors,
    verifierCalls: n.verifierCalls,
    verifierErrors: n.verifierErrors,
    verifierTimeouts: n.verifierTimeouts,
    evaluator: d.evaluator,
    evaluatorThreshold: c.core.baseThreshold(),
    store: d.store,
    threshold: d.threshold,
    dimensions: c.dimensions,
    embedder: d.embedder,
    ...(d.next ? { next: d.next } : {}),
    wasmHeapBytes: c.m.HEAPU8.length,
  };
}

/** A page of entries, newest first: every entry (scope key '') or one scope's. */
export async function listEntries(c: CoreRef, store: CacheStore, scope: string, options: EntriesOptions): Promise<EntryInfo[]> {
  const ids = [...core(() => c.core.ids(scope))].reverse();
  const page = ids.slice(options.offset ?? 0, (options.offset ?? 0) + (options.limit ?? 100));
  const out: EntryInfo[] = [];
  for (const id of page) {
    const row = await store.get(id);
    const e = c.core.entry(id);
    if (!row || !e) continue;
    out.push({ id, scope: row.scope, prompt: row.prompt, answer: row.answer, created: e.created, lastAccess: e.lastAccess, expiresAt: e.expiresAt, hits: e.hits, metadata: row.metadata });
  }
  return out;
}
