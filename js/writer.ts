// The write path of a SemanticCache: every change reaches the store in core order, one write at a
// time. Puts are group committed (those queued within one event-loop turn share a batch: one
// transaction, one fsync); a failed batch is rolled back in the core. Access bookkeeping (hits,
// last access, feedback offsets) rides along with the next batch. A full store makes room by
// evicting a tenth of the entries and retrying once.
import type { PutResult } from './api.js';
import { SemcacheError, core, fromCore } from './errors.js';
import { nextTurn } from './platform.js';
import type { CacheRow, CacheStore, StoreBatch } from './store.js';
import type { CacheCore, SemcacheCoreModule } from './wasm/semcache_core.mjs';

/** The core a cache writes through, and how vectors get into it. */
export interface CoreRef {
  readonly m: SemcacheCoreModule;
  readonly core: CacheCore;
  readonly dimensions: number;
}

/** Runs f with `v` in the core's vector buffer (one HEAPF32.set, no per-element conversion). */
export function withVector<T>(c: CoreRef, v: Float32Array, f: () => T): T {
  return core(() => {
    c.m.HEAPF32.set(v, c.core.vectorBuffer() >> 2);
    return f();
  });
}

/** Puts a persisted row back into the core (rows of another length are skipped). */
export function restoreRow(c: CoreRef, row: CacheRow): void {
  if (row.vector.length !== c.dimensions) return;
  withVector(c, row.vector, () => c.core.restore(row, row.vector.length));
}

/** Counters the cache reports in stats(). */
export interface WriteCounts {
  storeMs: number;
  cacheErrors: number;
}

export interface QueuedPut {
  prompt: string;
  answer: string;
  scope: string;
  vector: Float32Array;
  ttl: number;
  answerBytes: number;
  metadata: unknown;
}

type Touch = NonNullable<StoreBatch['touch']>[number];
type Waiting = QueuedPut & { resolve: (r: PutResult) => void; reject: (e: unknown) => void };

/** Share of the entries evicted when the store is full, before the one retry. */
const QUOTA_EVICT_FRACTION = 0.1;

export class Writer {
  /** The store's batch sequence number after the last write. */
  seq: number;
  /** Rows changed since the store's snapshot (what an open would replay). */
  writesSinceSnapshot = 0;
  /** Called after every batch the store took (the snapshot policy hooks in here). */
  onApplied: () => void = () => {};
  /** Called with the ids of entries that left the core (or null: all of them), as they leave:
   * the OPFS worker tells pages that answer exact repeats themselves (js/exact-memo.ts). */
  onForget: (ids: number[] | null) => void = () => {};
  /** Called with every batch the store took, as it took it, and the store's seq after it: the
   * OPFS worker streams them to pages that keep a copy of the entries (js/opfs-page-index.ts). */
  onBatch: (batch: StoreBatch, seq: number) => void = () => {};
  private writes: Promise<unknown> = Promise.resolve();
  /** Entries accessed since the last batch; their state is read from the core when the batch is
   * made, not on the hit's path (a page hit's budget is a few ms, and that read cost 0.045 ms of
   * it after an embedding: docs/benchmarks.md). */
  private readonly touches = new Set<number>();
  private queued: Waiting[] = [];
  /** Rows in the core whose batch the store has not taken yet. */
  private readonly unwritten = new Map<number, CacheRow>();

  constructor(
    private readonly c: CoreRef,
    private readonly store: CacheStore,
    seq: number,
    private readonly clock: () => number,
    private readonly counts: WriteCounts,
    /** Throws CLOSED once the cache is closed. */
    private readonly check: () => void,
  ) {
    this.seq = seq;
  }

  /** Serializes writes so the store sees them in core order. */
  write<T>(f: () => Promise<T>): Promise<T> {
    const p = this.writes.then(f, f);
    this.writes = p.catch(() => {});
    return p;
  }

  /** Notes that an entry's access state changed: the next batch writes it. */
  touch(id: number): void {
    this.touches.add(id);
  }

  get hasTouches(): boolean {
    return this.touches.size > 0;
  }

  /** Entries gone from the core: no bookkeeping for them. */
  forget(ids: Iterable<number>): void {
    const gone = [...ids];
    for (const id of gone) this.touches.delete(id);
    if (gone.length) this.onForget(gone);
  }

  forgetAll(): void {
    this.touches.clear();
    this.onForget(null);
  }

  /** An exact hit answered elsewhere (a page's memo): counted and touched as a lookup here is. */
  noteExactHit(scope: string, prompt: string): void {
    this.check();
    const r = core(() => this.c.core.lookupExact(scope, prompt, this.clock()));
    this.dropExpired([...r.expired]);
    if (r.hit) this.touch(r.id);
  }

  /** A semantic hit decided on a copy of the entries (a page's): counted and touched as a
   * lookup's hit here is; nothing when the entry has gone meanwhile. */
  noteHit(id: number, score: number): void {
    this.check();
    if (core(() => this.c.core.noteHit(id, score, this.clock()))) this.touch(id);
  }

  /** Deletes rows of entries the core found expired, in the background: they stay on failure
   * (expired, so dropped again on reopen). */
  dropExpired(ids: number[]): void {
    if (!ids.length) return;
    this.forget(ids);
    this.write(() => this.apply({ delete: ids })).catch(() => {
      this.counts.cacheErrors++;
    });
  }

  /** Queues a put; resolves when its batch is durable in the store. */
  put(item: QueuedPut): Promise<PutResult> {
    return new Promise<PutResult>((resolve, reject) => {
      this.queued.push({ ...item, resolve, reject });
      if (this.queued.length === 1) this.write(() => this.commitQueued());
    });
  }

  /**
   * Group commit: every put queued while the previous write was in flight (or within one
   * event-loop turn) goes into one store batch. The batch is all-or-nothing, so on failure each
   * of its puts is rolled back and rejected.
   */
  private async commitQueued(): Promise<void> {
    // Stores commit synchronously underneath: wait one event-loop turn so that puts arriving as
    // separate events (concurrent callers, worker messages) join this batch.
    await nextTurn();
    const items = this.queued.splice(0);
    const done: { id: number; removed: number[]; result: PutResult; item: Waiting }[] = [];
    const rows = new Map<number, CacheRow>();
    const deleted: number[] = [];
    for (const it of items) {
      try {
        this.check();
        const t = this.clock();
        const r = withVector(this.c, it.vector, () => this.c.core.put(it.scope, it.prompt, it.vector.length, it.answerBytes, t, it.ttl));
        const removed = [...r.evicted];
        if (r.replaced) removed.push(r.replaced);
        this.forget(removed);
        for (const id of removed) {
          // A row put earlier in this batch and already displaced never reaches the store.
          if (!rows.delete(id)) deleted.push(id);
        }
        rows.set(r.id, {
          id: r.id,
          scope: it.scope,
          prompt: it.prompt,
          promptHash: r.promptHash,
          answer: it.answer,
          answerBytes: it.answerBytes,
          vector: it.vector.slice(),
          created: t,
          lastAccess: t,
          expiresAt: it.ttl > 0 ? t + it.ttl : 0,
          hits: 0,
          metadata: it.metadata,
        });
        done.push({ id: r.id, removed, item: it, result: { id: r.id, evicted: r.evicted.length, replaced: r.replaced || null } });
      } catch (e) {
        it.reject(fromCore(e));
      }
    }
    if (!done.length) return;
    for (const [id, row] of rows) this.unwritten.set(id, row);
    try {
      await this.apply({ put: [...rows.values()], delete: deleted });
    } catch (e) {
      for (let i = done.length - 1; i >= 0; i--) await this.rollback(done[i]!.id, done[i]!.removed);
      for (const d of done) d.item.reject(e);
      return;
    } finally {
      for (const id of rows.keys()) this.unwritten.delete(id);
    }
    for (const d of done) d.item.resolve(d.result);
  }

  /** The store refused a put: take it out of the core and bring back what it displaced. */
  private async rollback(id: number, removed: number[]) {
    this.c.core.remove(id);
    this.forget([id]);  // a lookup may have answered from its unwritten row
    for (const old of removed) {
      const row = await this.store.get(old).catch(() => undefined);
      if (row) restoreRow(this.c, row);
    }
  }

  /**
   * A row that is in the core but not yet in the store (its batch is being written): a lookup
   * that finds it must not take "no row" for a row deleted elsewhere.
   */
  unwrittenRow(id: number): CacheRow | undefined {
    return this.unwritten.get(id);
  }

  /** Writes a batch (with the pending access bookkeeping). Call inside write(). */
  async apply(batch: StoreBatch): Promise<void> {
    if (this.touches.size) {
      const touch: Touch[] = [];
      for (const id of this.touches) {
        const e = this.c.core.entry(id);
        if (e) touch.push({ id, lastAccess: e.lastAccess, hits: e.hits, thresholdOffset: e.thresholdOffset });
      }
      this.touches.clear();
      if (touch.length) batch.touch = touch;
    }
    const t = performance.now();
    try {
      this.seq = await this.store.apply(batch);
      this.onBatch(batch, this.seq);
    } catch (e) {
      if ((e as SemcacheError)?.code !== 'QUOTA_EXCEEDED') throw storeError(e, this.store.kind);
      await this.applyAfterEviction(batch, e as SemcacheError);
    } finally {
      this.counts.storeMs += performance.now() - t;
    }
    // Count rows, not batches: a group commit of 64 puts is 64 rows an open would have to replay.
    this.writesSinceSnapshot += Math.max(1, (batch.put?.length ?? 0) + (batch.delete?.length ?? 0) + (batch.touch?.length ?? 0));
    this.onApplied();
  }

  /** Feedback on an entry (core.feedback), its new offset then written; resolves that offset. */
  feedback(id: number, correct: boolean): Promise<number> {
    return this.write(async () => {
      const offset = core(() => this.c.core.feedback(id, correct));
      this.touch(id);
      await this.apply({});
      return offset;
    });
  }

  /** Removes one entry; resolves whether it was there. */
  remove(id: number): Promise<boolean> {
    return this.write(async () => {
      if (!core(() => this.c.core.remove(id))) return false;
      this.forget([id]);
      await this.apply({ delete: [id] });
      return true;
    });
  }

  /** Removes every entry, or one scope's (its key); resolves how many went. */
  clear(scope?: string): Promise<number> {
    return this.write(async () => {
      if (scope === undefined) {
        const n = this.c.core.stats().entries;
        this.c.core.clear();
        this.forgetAll();
        await this.apply({ clear: true });
        return n;
      }
      const ids = [...core(() => this.c.core.clearScope(scope))];
      this.forget(ids);
      if (ids.length) await this.apply({ delete: ids });
      return ids.length;
    });
  }

  /** Removes up to `count` entries by the eviction policy (expired ones first); resolves how many. */
  evict(count: number): Promise<number> {
    return this.write(async () => {
      this.check();
      const ids = [...core(() => this.c.core.evict(count, this.clock(), []))];
      this.forget(ids);
      if (ids.length) await this.apply({ delete: ids });
      return ids.length;
    });
  }

  /**
   * Storage is full: evict a tenth of the entries plus as many as the batch puts (by the eviction
   * policy, with its usual evictFraction margin, never the batch's own puts) and retry the batch
   * once with those deletions. Still full: QUOTA_EXCEEDED, the cache unchanged beyond the
   * evictions (which are then written when space allows).
   */
  private async applyAfterEviction(batch: StoreBatch, first: SemcacheError) {
    const keep = batch.put?.map((r) => r.id) ?? [];
    const n = this.c.core.stats().entries;
    const target = Math.max(1, Math.floor(n * (1 - QUOTA_EVICT_FRACTION)) - keep.length);
    const count = Math.max(0, n - (target - Math.floor(target * this.c.core.config().evictFraction)));
    const evicted = [...core(() => this.c.core.evict(count, this.clock(), keep))];
    this.forget(evicted);
    const merged = { ...batch, delete: [...(batch.delete ?? []), ...evicted] };
    try {
      this.seq = await this.store.apply(merged);
      this.onBatch(merged, this.seq);
    } catch (e) {
      // Give the evictions their own chance to land so that core and store agree.
      if (evicted.length) {
        await this.store.apply({ delete: evicted }).then(
          (s) => this.onBatch({ delete: evicted }, (this.seq = s)),
          () => {},
        );
      }
      throw new SemcacheError('QUOTA_EXCEEDED', `storage is full even after evicting ${evicted.length} of ${n} entries: ${(e as Error).message ?? first.message}`, { cause: e });
    }
  }
}

function storeError(e: unknown, kind: string): SemcacheError {
  return e instanceof SemcacheError ? e : new SemcacheError('STORE_FAILED', `the ${kind} store failed: ${(e as Error)?.message ?? e}`, { cause: e });
}
