// The index snapshot's lifecycle. Rows are the truth; the snapshot (the core's state as bytes)
// only makes opening fast. It is written after `snapshotEvery` changed rows, `snapshotIntervalMs`
// after a write, and by flush/close (unless a few changed rows are cheaper to replay). An open
// loads it when it matches the rows, loads it and replays the changes when it lags, and rebuilds
// from the rows when it is missing, corrupt or of another shape.
//
// A million entries make a ~700 MB snapshot: serialized in one step it blocked lookups for
// seconds and doubled the wasm heap, and loaded as one buffer it doubled the heap again while
// opening. So the core writes about SNAPSHOT_SLICE_BYTES per slice and this yields between
// slices, so lookups and puts run meanwhile (the core rewrites what they change: the snapshot is
// the cache as it was at its last slice, see src/cache/snapshot.h); loading hands the core one
// chunk at a time.
import { concatBytes } from './bytes.js';
import { SemcacheError, core } from './errors.js';
import { nextTurn } from './platform.js';
import type { CacheStore, StoreChanges } from './store.js';
import type { CacheCore, SemcacheCoreModule } from './wasm/semcache_core.mjs';
import { restoreRow, type CoreRef, type WriteCounts, type Writer } from './writer.js';

/** close() leaves the snapshot as it is when fewer rows than this changed since (replayed on open). */
export const CLOSE_REPLAY_ROWS = 64;

/**
 * Core bytes per slice, and one store chunk: measured in Node on a loaded 2-core machine, 1 MiB
 * took 1-18 ms to serialize and 9-40 ms to insert into SQLite, so a lookup could wait ~50 ms
 * behind one slice; a quarter of that keeps the wait near 10 ms.
 */
export const SNAPSHOT_SLICE_BYTES = 256 << 10;

export class Snapshots {
  /** The seq of the snapshot the store holds (saved or loaded here), -1 when unknown or none. */
  private snapshotSeq = -1;
  private snapshotting?: Promise<void>;
  private saving?: Promise<void>;
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

  /** One snapshot at a time: the core has one snapshot cursor, and a second writer started
   * between the first one's slices (flush() while the timer's snapshot runs) would end it. */
  private save(): Promise<void> {
    const run = (this.saving ?? Promise.resolve()).catch(() => {}).then(() => this.saveNow());
    const tracked = run.finally(() => {
      if (this.saving === tracked) this.saving = undefined;
    });
    this.saving = tracked;
    return run;
  }

  private async saveNow() {
    this.writer.writesSinceSnapshot = 0;
    try {
      const seq = await writeSnapshotSliced(this.c.core, this.store, () => this.writer.seq);
      if (seq !== undefined) this.snapshotSeq = seq;
    } catch (e) {
      // No room for the accelerator: the rows are complete, the next open replays or rebuilds.
      if ((e as SemcacheError)?.code !== 'QUOTA_EXCEEDED') throw e;
      this.counts.cacheErrors++;
    }
  }

  /** Fills the (empty) core from the store: snapshot, snapshot + changes, or every row. */
  async restore(): Promise<void> {
    const w = this.writer;
    const seqNow = w.seq;
    // A snapshot behind the rows is still useful when the store can list what changed since.
    const usable = (seq: number) => seq === seqNow || (seq < seqNow && !!this.store.changesSince);
    const snapSeq = await loadSnapshotStreamed(this.c.m, this.c.core, this.store, usable);
    let changes: StoreChanges | undefined;
    let loaded = snapSeq !== undefined;
    if (loaded && snapSeq! < seqNow) {
      changes = await this.store.changesSince!(snapSeq!);
      if (!changes) {  // a clear came after it: nothing to replay from
        this.c.core.clear();
        loaded = false;
      }
    }
    if (loaded) {
      if (!changes) {
        this.snapshotSeq = seqNow;
        return;
      }
      for (const id of changes.deleted) this.c.core.remove(id);
      for (const row of changes.rows) {
        this.c.core.remove(row.id);
        restoreRow(this.c, row);
      }
      this.snapshotSeq = snapSeq!;
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
}

/**
 * Writes the core's snapshot into the store, a slice at a time. `seq()` is read at the last
 * slice: the snapshot holds every change up to then. Resolves that seq, or undefined when a
 * clear() (or a loaded snapshot) aborted it; the store's previous snapshot then stays.
 */
export async function writeSnapshotSliced(c: CacheCore, store: CacheStore, seq: () => number, sliceBytes = SNAPSHOT_SLICE_BYTES): Promise<number | undefined> {
  const sink = store.beginSnapshot ? await store.beginSnapshot() : undefined;
  const held: Uint8Array[] = [];
  let stamped = -1;
  try {
    core(() => c.snapshotBegin());
    for (;;) {
      const at = seq();
      // a sink takes the slice before it awaits (SnapshotSink.write): a view, not a copy
      const slice = core(() => (sink ? c.snapshotNextView(sliceBytes, at) : c.snapshotNext(sliceBytes, at)));
      if (sink) await sink.write(slice.bytes);
      else held.push(slice.bytes);
      if (slice.done) {
        stamped = at;
        break;
      }
      await nextTurn();
    }
  } catch (e) {
    c.snapshotAbort();
    await sink?.abort();
    if ((e as SemcacheError)?.code === 'ABORTED') return undefined;
    throw e;
  }
  if (sink) await sink.commit(stamped);
  else await store.saveSnapshot({ seq: stamped, bytes: concatBytes(held) });
  return stamped;
}

/**
 * Streams the store's snapshot into the core. Resolves its seq, or undefined when there is none,
 * `usable(seq)` declines it, or the core refuses it (damaged, another format or build, or without
 * the prompt signatures this cache's evaluator needs): the core is then as it was, and the rows
 * are the truth. Throws only what the store throws.
 */
export async function loadSnapshotStreamed(m: SemcacheCoreModule, c: CacheCore, store: CacheStore, usable: (seq: number) => boolean): Promise<number | undefined> {
  let buf = 0;
  let cap = 0;
  let refused = false;
  const coreCall = <T>(f: () => T): T => {
    try {
      return core(f);
    } catch (e) {
      refused = true;
      throw e;
    }
  };
  const push = (chunk: Uint8Array) => {
    for (let at = 0; at < chunk.length; at += SNAPSHOT_SLICE_BYTES) {
      const part = chunk.subarray(at, at + SNAPSHOT_SLICE_BYTES);
      if (part.length > cap) {
        if (buf) m._free(buf);
        buf = m._malloc((cap = part.length));
        if (!buf) throw new SemcacheError('OUT_OF_MEMORY', `no room for a ${cap}-byte snapshot chunk in the wasm heap`);
      }
      m.HEAPU8.set(part, buf);
      coreCall(() => c.loadPush(buf, part.length));
    }
  };
  try {
    let seq: number | undefined;
    if (store.loadSnapshotChunks) {
      seq = await store.loadSnapshotChunks((size, s) => usable(s) && (coreCall(() => c.loadBegin(size)), true), push);
    } else {
      const snap = await store.loadSnapshot();
      if (snap && usable(snap.seq)) {
        coreCall(() => c.loadBegin(snap.bytes.length));
        push(snap.bytes);
        seq = snap.seq;
      }
    }
    if (seq === undefined) return undefined;
    coreCall(() => c.loadFinish());
    return seq;
  } catch (e) {
    if (refused) return undefined;
    throw e;
  } finally {
    c.loadAbort();
    if (buf) m._free(buf);
  }
}
