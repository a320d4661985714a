// Package-internal access to a SemanticCache's parts, for the code that hosts one (the OPFS
// worker, the edge worker's Durable Object shard): not part of the API.
import type { GetOptions, GetResult } from './api.js';
import type { LocalTransfer } from './transfer/local.js';

export const INTERNAL = Symbol('semcache.internal');

export interface CacheInternals {
  /** Export sessions and import batches (the hosts' verbs for cache.export/import). */
  transfer: LocalTransfer;
  /** Entries in the core. */
  entries(): number;
  /** Removes up to `count` entries by the eviction policy (expired ones first); resolves how many. */
  evict(count: number): Promise<number>;
  /** get() without the tiers, with the vector it embedded (a host that embeds for its callers
   * hands a miss's vector back, so the caller's put does not embed again). */
  lookup(prompt: string, options: GetOptions): Promise<{ result: GetResult; vector?: Float32Array }>;
  /** Hears of every entry that leaves the core (its id; null: all of them), as it leaves. */
  onForget(listener: (ids: number[] | null) => void): void;
  /** An entry's expiry time (0: never), undefined when it is not in the core. */
  expiresAt(id: number): number | undefined;
  /** Exact hits answered elsewhere (on a page, from its memo): counted and touched as if looked
   * up here, so stats and the eviction policy see them. */
  noteExactHits(hits: ReadonlyArray<{ prompt: string; scope?: GetOptions['scope'] }>): void;
}
