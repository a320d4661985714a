// Package-internal access to a SemanticCache's parts, for the code that hosts one (the OPFS
// worker, the edge worker's Durable Object shard): not part of the API.
import type { GetHit, GetOptions, GetResult } from './api.js';
import type { CacheRow, StoreBatch } from './store.js';
import type { LocalTransfer } from './transfer/local.js';

/** Every row of a cache as its store holds them after batch `seq`; or why not (too many). */
export type RowsAt = { seq: number; rows: CacheRow[] } | { seq: number; over: string };

export const INTERNAL = Symbol('semcache.internal');

export interface CacheInternals {
  /** Export sessions and import batches (the hosts' verbs for cache.export/import). */
  transfer: LocalTransfer;
  /** Entries in the core. */
  entries(): number;
  /** Removes up to `count` entries by the eviction policy (expired ones first); resolves how many. */
  evict(count: number): Promise<number>;
  /** get() without the tiers, with the vector it embedded (a host that embeds for its callers
   * hands a miss's vector back, so the caller's put does not embed again). `exactFirst` false:
   * by meaning only (the caller looked the prompt up exactly already). */
  lookup(prompt: string, options: GetOptions, exactFirst?: boolean): Promise<{ result: GetResult; vector?: Float32Array }>;
  /** The exact (normalized) repeat's hit only: nothing embedded. */
  lookupExact(prompt: string, options: GetOptions): Promise<GetHit | undefined>;
  /** By meaning only, in this turn, for a copy on a memory store without a verifier (a page's
   * copy of an OPFS cache): `vector` is the caller's checked embedding of `prompt`. The hit, or
   * undefined (a miss: the caller asks the original). */
  lookupHere(prompt: string, options: Pick<GetOptions, 'scope' | 'threshold'>, vector: Float32Array): GetHit | undefined;
  /** Hears of every entry that leaves the core (its id; null: all of them), as it leaves. */
  onForget(listener: (ids: number[] | null) => void): void;
  /** An entry's expiry time (0: never), undefined when it is not in the core. */
  expiresAt(id: number): number | undefined;
  /** Exact hits answered elsewhere (on a page, from its memo): counted and touched as if looked
   * up here, so stats and the eviction policy see them. */
  noteExactHits(hits: ReadonlyArray<{ prompt: string; scope?: GetOptions['scope'] }>): void;
  /** Semantic hits decided elsewhere on copies of this cache's entries (a page's): counted and
   * recorded (hits, last access, the score feedback reads) as if decided here. */
  noteHits(hits: ReadonlyArray<{ id: number; score: number }>): void;
  /** The store's seq: the number of the last batch it took. */
  seq(): number;
  /** Hears of every batch the store takes (with the store's seq after it), as it takes it. */
  onBatch(listener: (batch: StoreBatch, seq: number) => void): void;
  /** Every row and the seq they are at, read between writes; `over` instead when there are more
   * than `maxEntries` rows or more than `maxBytes` of prompt and answer text (UTF-16 bytes). */
  rows(limits: { maxEntries: number; maxBytes: number }): Promise<RowsAt>;
  /** Makes this cache a copy of another one: applies a batch that the other's store took (rows
   * keep their ids), to the core and the store, at once. For a copy on a memory store. */
  mirror(batch: StoreBatch): void;
}
