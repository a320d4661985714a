// The index snapshot's lifecycle. Rows are the truth; the snapshot (the core's state as bytes)
// only makes opening fast. It is written after `snapshotEvery` changed rows, `snapshotIntervalMs`
// after a write, and by flush/close (unless a few changed rows are cheaper to replay). An open
// loads it when it matches the rows, loads it and replays the changes when it lags, and rebuilds
// from the rows when it is missing, corrupt or of another shape.
import { SemcacheError, core } from './errors.js';
import type { CacheStore, StoreChanges } from './store.js';
import { restoreRow, type CoreRef, type WriteCounts, type Writer } from './writer.js';

/** close() leaves the snapshot as it is when fewer rows than this changed since (replayed on open). */
export const CLOSE_REPLAY_ROWS = 64;

export class Snapshots {
  /** The seq of the snapshot the store holds (saved or loaded here), -1 when unknown or none. */
  private snapshotSeq = -1;
  private snapshotting?: Promise<void>;
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;

  constructor(
    private readonly c: CoreRef,
    private readonly store: CacheStore,
    private readonly writer: Writer,
    private readonly policy: { snapshotEvery: number; snapshotIntervalMs: number },
    private readonly counts: WriteCounts,
    private readonly clock: () => number,
  ) {
    writer.onApplied = () => this.afterWrite();
  }

  /** Whether the store's snapshot holds every write. */
  get current(): boolean {
    return this.snapshotSeq === this.writer.seq;
  }

  private afterWrite() {
    const w = this.writer;
    if (this.policy.snapshotEvery && w.writesSinceSnapshot >= this.policy.snapshotEvery) this.snapshotSoon();
    else if (this.policy.snapshotIntervalMs && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.closed && w.writesSinceSnapshot) w.write(async () => this.snapshotSoon());
      }, this.policy.snapshotIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  private snapshotSoon() {
    if (this.snapshotting || this.closed) return;
    this.snapshotting = this.save()
      .catch(() => {
        this.counts.cacheErrors++;  // the rows are safe; the next open rebuilds from them
      })
      .finally(() => (this.snapshotting = undefined));
  }

  /**
   * Writes pending bookkeeping, and a snapshot unless the store's is current or (replayLimit > 0)
   * behind by fewer than replayLimit changed rows, which an open replays instead.
   */
  flush(replayLimit: number): Promise<void> {
    const w = this.writer;
    return w.write(async () => {
      await this.snapshotting?.catch(() => {});
      if (w.hasTouches) await w.apply({});
      if (this.current) return;
      const replayable = this.snapshotSeq >= 0 && !!this.store.changesSince && w.writesSinceSnapshot < replayLimit;
      if (!replayable) await this.save();
    });
  }

  /** Stops the timer and waits for a snapshot in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.snapshotting?.catch(() => {});
  }

  private async save() {
    this.writer.writesSinceSnapshot = 0;
    const seq = this.writer.seq;
    const bytes = core(() => this.c.core.snapshot(seq));
    try {
      await this.store.saveSnapshot({ seq, bytes });
      this.snapshotSeq = seq;
    } catch (e) {
      // No room for the accelerator: the rows are complete, the next open replays or rebuilds.
      if ((e as SemcacheError)?.code !== 'QUOTA_EXCEEDED') throw e;
      this.counts.cacheErrors++;
    }
  }

  /** Fills the (empty) core from the store: snapshot, snapshot + changes, or every row. */
  async restore(): Promise<void> {
    const w = this.writer;
    const snap = await this.read();
    let loaded = false;
    let changes: StoreChanges | undefined;
    if (snap) {
      try {
        // A snapshot behind the rows is still useful when the store can list what changed since.
        changes = snap.seq < w.seq && this.store.changesSince ? await this.store.changesSince(snap.seq) : undefined;
        if (snap.seq === w.seq || changes) loaded = this.loadAt(snap.ptr, snap.size);
      } finally {
        this.c.m._free(snap.ptr);
      }
    }
    if (loaded) {
      if (!changes) {
        this.snapshotSeq = w.seq;
        return;
      }
      for (const id of changes.deleted) this.c.core.remove(id);
      for (const row of changes.rows) {
        this.c.core.remove(row.id);
        restoreRow(this.c, row);
      }
      this.snapshotSeq = snap!.seq;
      w.writesSinceSnapshot = changes.rows.length + changes.deleted.length;
    } else {
      await this.store.scan((rows) => {
        for (const row of rows) restoreRow(this.c, row);
      });
    }
    const now = this.clock();
    const dropped = [...core(() => this.c.core.purgeExpired(now)), ...core(() => this.c.core.enforceLimits(now))];
    if (dropped.length) await w.apply({ delete: dropped });
  }

  /**
   * The store's snapshot copied into the core's heap (the caller frees ptr), or undefined when
   * there is none or it cannot serve (newer than the rows, or older with no change log). Stores
   * with loadSnapshotInto write their chunks straight into the heap: no whole copy in JS.
   */
  private async read(): Promise<{ seq: number; ptr: number; size: number } | undefined> {
    const { m } = this.c;
    const seqNow = this.writer.seq;
    const usable = (seq: number) => seq === seqNow || (seq < seqNow && !!this.store.changesSince);
    if (this.store.loadSnapshotInto) {
      let ptr = 0;
      let size = 0;
      const seq = await this.store
        .loadSnapshotInto((n, seq) => {
          if (!usable(seq)) return undefined;
          ptr = m._malloc(n);
          size = n;
          if (!ptr && n) throw new SemcacheError('OUT_OF_MEMORY', `no room for a ${n}-byte snapshot in the wasm heap`);
          return m.HEAPU8.subarray(ptr, ptr + n);
        })
        .catch((e: unknown) => {
          if (ptr) m._free(ptr);
          throw e;
        });
      if (seq === undefined) {
        if (ptr) m._free(ptr);
        return undefined;
      }
      return { seq, ptr, size };
    }
    const snap = await this.store.loadSnapshot();
    if (!snap || !usable(snap.seq)) return undefined;
    const ptr = m._malloc(snap.bytes.length);
    m.HEAPU8.set(snap.bytes, ptr);
    return { seq: snap.seq, ptr, size: snap.bytes.length };
  }

  /** False when the snapshot is corrupt or of another shape (dimensions, space, or without the
   * prompt signatures this cache's evaluator needs): the rows are the truth then. */
  private loadAt(ptr: number, size: number): boolean {
    try {
      this.c.core.loadSnapshot(ptr, size);
      return true;
    } catch {
      this.c.core.clear();
      return false;
    }
  }
}
