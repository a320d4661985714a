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
}
