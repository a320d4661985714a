import { SemcacheError } from '../errors.js';
import type { CacheRow, CacheStore, StoreBatch, StoreChanges, StoreInfo, StoreSnapshot } from '../store.js';

/** Keeps rows in a Map: nothing survives the process. The default store. */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory';
  private rows = new Map<number, CacheRow & { seq: number }>();
  /** Deleted id -> the batch that deleted it (for changesSince). */
  private tombstones = new Map<number, number>();
  private clearSeq = 0;
  private info?: StoreInfo;
  private snapshot?: StoreSnapshot;
  private seq = 0;
  private closed = false;

  async open(info: StoreInfo) {
    this.closed = false;
    const created = !this.info;
    this.info ??= { ...info };
    return { info: { ...this.info }, seq: this.seq, created };
  }

  async apply(batch: StoreBatch): Promise<number> {
    this.check();
    const seq = this.seq + 1;
    if (batch.clear) {
      this.rows.clear();
      this.tombstones.clear();
      this.clearSeq = seq;
    }
    for (const id of batch.delete ?? []) {
      this.rows.delete(id);
      this.tombstones.set(id, seq);
    }
    for (const row of batch.put ?? []) this.rows.set(row.id, { ...row, vector: row.vector.slice(), seq });
    for (const t of batch.touch ?? []) {
      const row = this.rows.get(t.id);
      // A touch counts as a change: an open that loads an older snapshot replays it.
      if (row) Object.assign(row, { lastAccess: t.lastAccess, hits: t.hits, seq });
      if (row && t.thresholdOffset !== undefined) row.thresholdOffset = t.thresholdOffset;
    }
    return (this.seq = seq);
  }

  async get(id: number) {
    this.check();
    return this.rows.get(id);
  }

  /** get() without waiting: a copy of a cache (SemanticCache's mirror) reads its rows in place. */
  peek(id: number): CacheRow | undefined {
    return this.rows.get(id);
  }

  async scan(onRows: (rows: CacheRow[]) => void) {
    this.check();
    const all = [...this.rows.values()].sort((a, b) => a.id - b.id);
    for (let i = 0; i < all.length; i += 1000) onRows(all.slice(i, i + 1000));
  }

  async changesSince(seq: number): Promise<StoreChanges | undefined> {
    this.check();
    if (this.clearSeq > seq) return undefined;
    return {
      rows: [...this.rows.values()].filter((r) => r.seq > seq).sort((a, b) => a.id - b.id),
      deleted: [...this.tombstones].filter(([, s]) => s > seq).map(([id]) => id),
    };
  }

  async loadSnapshot() {
    this.check();
    return this.snapshot;
  }

  async saveSnapshot(s: StoreSnapshot) {
    this.check();
    this.snapshot = { seq: s.seq, bytes: s.bytes.slice() };
    for (const [id, at] of this.tombstones) if (at <= s.seq) this.tombstones.delete(id);
  }

  async destroy() {
    this.rows.clear();
    this.tombstones.clear();
    this.clearSeq = 0;
    this.info = undefined;
    this.snapshot = undefined;
    this.seq = 0;
  }

  async close() {
    this.closed = true;
  }

  private check() {
    if (this.closed) throw new SemcacheError('CLOSED', 'memory store is closed');
  }
}
