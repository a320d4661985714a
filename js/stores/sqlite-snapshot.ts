// Snapshots in a SqliteStore: chunk generations written while the cache keeps serving (each write
// its own transaction), one of which the meta table names as current. A new generation becomes
// current only in one small transaction at the end, so a crash meanwhile keeps the previous one.
import { SemcacheError } from '../errors.js';
import type { SnapshotSink, StoreSnapshot } from '../store.js';
import type { Statements } from './sqlite-schema.js';

/** What the chunks need of their store (SqliteStore's internals). */
export interface ChunkDb {
  /** The prepared statements; CLOSED when the store is. */
  stmts(): Statements;
  exec(sql: string): void;
  tx(f: () => void): void;
  meta(key: string): unknown;
  setMeta(key: string, value: unknown): void;
  wrap(e: unknown, what: string): SemcacheError;
}

/** See SqliteStoreOptions for each. */
export interface ChunkOptions {
  chunkBytes: number;
  sliceMs: number;
  chunkSync?: 'NORMAL';
  checkpointBytes: number;
  files?: SnapshotFiles;
}

/**
 * Snapshots as plain files beside the database (SqliteStoreOptions.snapshotFiles), one per
 * generation. The database still says which generation is current (meta), so a file only counts
 * once the switch to it commits; a file left by a writer that died is removed by the next commit.
 */
export interface SnapshotFiles {
  /** A new, empty file for generation `gen` (a leftover of that number is truncated). */
  create(gen: number): Promise<SnapshotFileWriter>;
  /** Hands generation `gen`'s bytes to onChunk in order; false when it is missing or not `size` bytes long. */
  read(gen: number, size: number, onChunk: (chunk: Uint8Array) => void): Promise<boolean>;
  /** Removes every file but generation `keep`'s (every file when undefined). */
  keepOnly(keep: number | undefined): Promise<void>;
  /** Bytes the files take now. */
  bytes(): number;
  /** The highest generation with a file (a writer that died may have left one): 0 when none. */
  maxGen(): number;
}

export interface SnapshotFileWriter {
  /** Appends (synchronously: no sync to disk until finish). */
  write(chunk: Uint8Array): void;
  /** Syncs the file to disk and closes it. */
  finish(): Promise<void>;
  /** Closes and removes the file. */
  abort(): Promise<void>;
}

/** Lets queued events run (puts arriving while a checkpoint is written). */
const yieldTurn = (): Promise<void> =>
  typeof setImmediate === 'function' ? new Promise((r) => setImmediate(r)) : new Promise((r) => setTimeout(r, 0));

export class SnapshotChunks {
  /** The snapshot being written: one at a time. */
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: ChunkDb,
    readonly o: ChunkOptions,
  ) {}

  /** Resolves when no snapshot is being written. */
  idle(): Promise<void> {
    return this.current;
  }

  async save(s: StoreSnapshot): Promise<void> {
    const sink = await this.begin();
    if (sink instanceof FileSink) {
      try {
        await sink.write(s.bytes);
      } catch (e) {
        await sink.abort();
        throw e;
      }
      return sink.commit(s.seq);
    }
    try {
      for (let at = 0; at < s.bytes.length; ) {
        const t0 = Date.now();
        at = sink.put(s.bytes, at, () => Date.now() - t0 < this.o.sliceMs);
        if (at < s.bytes.length) await yieldTurn();
      }
    } catch (e) {
      await sink.abort();
      throw e;
    }
    await sink.commit(s.seq);
  }

  /** A new generation's sink, once the snapshot before it is done. */
  begin(): Promise<ChunkSink | FileSink> {
    const before = this.current;
    let release!: () => void;
    this.current = new Promise<void>((r) => (release = r));
    return before
      .then(async (): Promise<ChunkSink | FileSink> => {
        let gen: number;
        try {
          const st = this.db.stmts();
          gen = Math.max(Number(this.db.meta('snapshot_gen') ?? 0), Number(st.maxGen.get([])?.[0] ?? 0), this.o.files?.maxGen() ?? 0) + 1;
        } catch (e) {
          throw this.db.wrap(e, 'snapshot write');
        }
        if (!this.o.files) return new ChunkSink(this, gen, release);
        try {
          return new FileSink(this, gen, await this.o.files.create(gen), release);
        } catch (e) {
          throw this.db.wrap(e, 'snapshot write');
        }
      })
      .catch((e) => {
        release();
        throw e;
      });
  }

  /** Chunks of bytes from `at` into generation `gen` (from chunk `n`) in one transaction, while `more()`. */
  put(gen: number, n: number, bytes: Uint8Array, at: number, more: () => boolean): { n: number; at: number } {
    const { db, o } = this;
    const st = db.stmts();
    try {
      if (o.chunkSync) db.exec(`PRAGMA synchronous = ${o.chunkSync}`);
      try {
        db.tx(() => {
          do {
            st.putChunk.run([gen, n++, bytes.subarray(at, Math.min(bytes.length, at + o.chunkBytes))]);
            at += o.chunkBytes;
          } while (at < bytes.length && more());
        });
      } finally {
        if (o.chunkSync) db.exec('PRAGMA synchronous = FULL');
      }
    } catch (e) {
      throw db.wrap(e, 'snapshot write');
    }
    return { n, at: Math.min(at, bytes.length) };
  }

  /** A PASSIVE WAL checkpoint (see SqliteStoreOptions.checkpointBytes). */
  checkpointWal() {
    try {
      this.db.stmts();
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (e) {
      throw this.db.wrap(e, 'snapshot write');
    }
  }

  /** Makes generation `gen` (of `size` bytes) the snapshot for rows up to `seq`, then drops the others. */
  async commit(gen: number, size: number, seq: number, inFile = false) {
    const { db } = this;
    const st = db.stmts();
    try {
      db.tx(() => {
        // A clear() after this snapshot was taken deleted its chunks: it must not become current.
        if (Number(db.meta('clear_seq') ?? 0) > seq) return;
        db.setMeta('snapshot_gen', gen);
        db.setMeta('snapshot_seq', seq);
        db.setMeta('snapshot_bytes', size);
        db.setMeta('snapshot_file', inFile ? 1 : 0);
        // Deletions the snapshot already reflects need no replay.
        st.pruneTombs.run([seq]);
      });
    } catch (e) {
      throw db.wrap(e, 'snapshot write');
    }
    await this.dropOthers();
    const current = Number(db.meta('snapshot_gen') ?? 0);
    await this.o.files?.keepOnly(Number(db.meta('snapshot_file') ?? 0) === 1 ? current : undefined).catch(() => {});
  }

  /**
   * Deletes every chunk generation but the current one, in slices (deleting 100 MB of BLOBs is not
   * free: SQLite reads every overflow page to free it). A slice stops at half of sliceMs, leaving
   * the other half to its commit; measured in Chromium on OPFS at 300k entries, deleting 16 chunks
   * between clock checks made 16-33 ms transactions, two at a time keeps them near 10 ms.
   */
  async dropOthers() {
    const { db } = this;
    try {
      for (;;) {
        const t0 = Date.now();
        let left = false;
        db.tx(() => {
          const st = db.stmts();
          const keep = Number(db.meta('snapshot_gen') ?? 0);
          do {
            const old = st.otherGens.all([keep, 2]);
            for (const [g, n] of old) st.delChunk.run([g, n]);
            left = old.length === 2;
          } while (left && Date.now() - t0 < this.o.sliceMs / 2);
        });
        if (!left) break;
        await yieldTurn();
      }
    } catch (e) {
      throw db.wrap(e, 'snapshot write');
    }
  }
}

/** A snapshot sink that commits or aborts once, then lets the next snapshot begin (`release`). */
abstract class OneShotSink implements SnapshotSink {
  private open = true;

  constructor(private readonly release: () => void) {}

  abstract write(chunk: Uint8Array): Promise<void>;
  /** Makes what was written current. */
  protected abstract finish(seq: number): Promise<void>;
  /** Drops what was written. */
  protected abstract drop(): Promise<void>;

  async commit(seq: number): Promise<void> {
    this.end();
    try {
      await this.finish(seq);
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    if (!this.open) return;
    this.end();
    try {
      await this.drop();
    } finally {
      this.release();
    }
  }

  protected checkOpen() {
    if (!this.open) throw new SemcacheError('CLOSED', 'this snapshot was already committed or aborted');
  }

  private end() {
    this.checkOpen();
    this.open = false;
  }
}

/** A snapshot being written as one chunk generation (SqliteStore.beginSnapshot). */
export class ChunkSink extends OneShotSink {
  private n = 0;
  private size = 0;
  private sinceCheckpoint = 0;

  constructor(
    private readonly chunks: SnapshotChunks,
    private readonly gen: number,
    release: () => void,
  ) {
    super(release);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.put(chunk, 0, () => true);
    this.sinceCheckpoint += chunk.length;
    const every = this.chunks.o.checkpointBytes;
    if (every && this.sinceCheckpoint >= every) {
      this.sinceCheckpoint = 0;
      await yieldTurn();
      this.chunks.checkpointWal();
    }
  }

  /** Writes chunk from `at` in one transaction while `more()`; returns where it stopped. */
  put(chunk: Uint8Array, at: number, more: () => boolean): number {
    this.checkOpen();
    const r = this.chunks.put(this.gen, this.n, chunk, at, more);
    this.size += r.at - at;
    this.n = r.n;
    return r.at;
  }

  protected finish(seq: number) {
    return this.chunks.commit(this.gen, this.size, seq);
  }

  protected drop() {
    return this.chunks.dropOthers();
  }
}

/**
 * A snapshot being written as one file (SqliteStoreOptions.snapshotFiles): each slice is a plain
 * append, and the file is synced before the database switches to it. In SQLite every 256 KiB
 * slice was a transaction plus a WAL checkpoint (two syncs, 30-134 ms each on a 1M-entry
 * snapshot in Chromium on OPFS), which a lookup waited behind.
 */
export class FileSink extends OneShotSink {
  private size = 0;

  constructor(
    private readonly chunks: SnapshotChunks,
    private readonly gen: number,
    private readonly file: SnapshotFileWriter,
    release: () => void,
  ) {
    super(release);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.checkOpen();
    this.file.write(chunk);
    this.size += chunk.length;
  }

  protected async finish(seq: number) {
    try {
      await this.file.finish();
    } catch (e) {
      await this.file.abort().catch(() => {});
      throw e;
    }
    // Not removed if this fails: the switch may have committed before the clean-up failed (a
    // file the database does not name goes with the next commit).
    await this.chunks.commit(this.gen, this.size, seq, true);
  }

  protected drop() {
    return this.file.abort();
  }
}
