// The CacheStore over the SQLite schema (sqlite-schema.ts) for any synchronous binding: the Node
// file store (better-sqlite3), the browser OPFS store (@sqlite.org/sqlite-wasm, opfs-sahpool) and
// the Durable Object store (ctx.storage.sql) drive this one class through a small adapter
// (SqlDb); only opening the database differs.
import { SemcacheError } from '../errors.js';
import type { CacheRow, CacheStore, SnapshotSink, StoreBatch, StoreChanges, StoreInfo, StoreSnapshot } from '../store.js';
import { SnapshotChunks, type SnapshotFiles } from './sqlite-snapshot.js';
import { SCHEMA_VERSION, migrate, sqliteCode, statementsOf, tablesOf, toRow, type SqlDb, type Statements, type Tables } from './sqlite-schema.js';

export interface SqliteStoreOptions {
  /** A corrupt database: 'error' (default) throws CORRUPT_DATABASE; 'reset' wipes it and starts fresh. */
  onCorrupt?: 'error' | 'reset';
  /** Prefix of every table name. Default ''. */
  tablePrefix?: string;
  /** Snapshot BLOB rows are cut at this size. Default 1 MiB. */
  chunkBytes?: number;
  /** Rows per scan page. Default 2000. */
  pageRows?: number;
  /**
   * A snapshot checkpoint commits its chunks in transactions of about this many milliseconds
   * and yields between them, so writers wait at most that long. Default 20.
   */
  checkpointSliceMs?: number;
  /**
   * The `PRAGMA synchronous` under which snapshot chunks are written, when the binding allows
   * pragmas. Their durability matters only once the switch to them commits, under the
   * connection's own setting, which syncs everything written before it: 'NORMAL' spares a sync
   * per chunk (a lookup waits behind each one); the connection's setting must be FULL, which
   * is restored after each chunk. Default: the connection's setting throughout.
   */
  chunkSync?: 'NORMAL';
  /**
   * In WAL mode, checkpoint (PASSIVE) after every this many bytes of snapshot chunks, in a step
   * of its own. Otherwise SQLite's automatic checkpoint (at 1,000 pages: 32 MiB) copies a whole
   * WAL inside one chunk's commit: measured in Chromium (OPFS), one step of 220-240 ms while a
   * snapshot was written, against 10-20 ms for the others. Default: no extra checkpoints.
   */
  checkpointBytes?: number;
  /**
   * Where snapshots go instead of BLOB chunks in the database: plain files, one per generation
   * (the OPFS store's). The database keeps which one is current. Default: chunks in SQLite.
   */
  snapshotFiles?: SnapshotFiles;
}

/**
 * The CacheStore over any SqlDb. `openDb` opens (or creates) the database; `wipe` deletes it
 * (for onCorrupt: 'reset' and destroy()). Every apply is one transaction: durable when the
 * binding's commit is (journal + fsync, set up by the caller's pragmas; the output gate on DOs).
 */
export class SqliteStore implements CacheStore {
  protected db?: SqlDb;
  private st?: Statements;
  private seq = 0;
  protected readonly t: Tables;
  private readonly onCorrupt: 'error' | 'reset';
  private readonly pageRows: number;
  /** Snapshot chunk generations: written, switched to, dropped. */
  private readonly chunks: SnapshotChunks;
  private readonly files?: SnapshotFiles;

  constructor(
    readonly kind: string,
    /** Names the database in errors (a path, or opfs:NAME). */
    readonly where: string,
    private readonly openDb: () => SqlDb,
    private readonly wipe: () => void,
    options: SqliteStoreOptions = {},
  ) {
    this.t = tablesOf(options.tablePrefix);
    this.onCorrupt = options.onCorrupt ?? 'error';
    const chunkBytes = options.chunkBytes ?? 1 << 20;
    this.pageRows = options.pageRows ?? 2000;
    if (!(Number.isInteger(chunkBytes) && chunkBytes > 0)) throw new SemcacheError('INVALID_ARGUMENT', `chunkBytes must be a positive integer, got ${chunkBytes}`);
    if (!(Number.isInteger(this.pageRows) && this.pageRows > 0)) throw new SemcacheError('INVALID_ARGUMENT', `pageRows must be a positive integer, got ${this.pageRows}`);
    this.chunks = new SnapshotChunks(
      {
        stmts: () => this.stmts(),
        exec: (sql) => this.db!.exec(sql),
        tx: (f) => this.tx(f),
        meta: (key) => this.meta(key),
        setMeta: (key, value) => this.setMeta(key, value),
        wrap: (e, what) => this.wrap(e, what),
      },
      { chunkBytes, sliceMs: options.checkpointSliceMs ?? 20, chunkSync: options.chunkSync, checkpointBytes: options.checkpointBytes ?? 0, files: options.snapshotFiles },
    );
    this.files = options.snapshotFiles;
  }

  async open(info: StoreInfo) {
    try {
      return this.openOnce(info);
    } catch (e) {
      this.closeDb();
      if (sqliteCode(e) !== 'CORRUPT') throw this.wrap(e, 'open');
      if (this.onCorrupt !== 'reset') {
        throw new SemcacheError('CORRUPT_DATABASE', `the database ${this.where} is corrupt (${(e as Error).message}); open with onCorrupt: 'reset' to start fresh`, { cause: e });
      }
      this.wipe();
      return this.openOnce(info);
    }
  }

  private openOnce(info: StoreInfo) {
    const db = this.openDb();
    this.db = db;
    // A file that is not a database fails here. Damage deeper inside surfaces on the read that
    // meets it as CORRUPT_DATABASE (no full check at open: it would read every page, ~1 s per
    // 100k entries; integrityCheck() runs one on demand).
    this.tx(() => migrate(db, this.t, this.where));
    this.st = Object.fromEntries(Object.entries(statementsOf(this.t)).map(([k, sql]) => [k, db.prepare(sql)])) as Statements;
    const stored = this.meta('info');
    let created = false;
    let have = info;
    if (stored === undefined) {
      this.tx(() => {
        this.setMeta('version', SCHEMA_VERSION);
        this.setMeta('info', JSON.stringify({ dimensions: info.dimensions, space: info.space, embedder: info.embedder }));
        this.setMeta('seq', 0);
        this.setMeta('clear_seq', 0);
      });
      created = true;
    } else {
      have = JSON.parse(String(stored)) as StoreInfo;
    }
    this.seq = Number(this.meta('seq') ?? 0);
    return { info: { ...have }, seq: this.seq, created };
  }

  async apply(batch: StoreBatch): Promise<number> {
    const st = this.stmts();
    const seq = this.seq + 1;
    try {
      this.tx(() => {
        if (batch.clear) {
          this.db!.exec(`DELETE FROM ${this.t.entries}; DELETE FROM ${this.t.tombstones}; DELETE FROM ${this.t.chunks}`);
          this.setMeta('clear_seq', seq);
        }
        for (const id of batch.delete ?? []) {
          st.del.run([id]);
          st.tomb.run([id, seq]);
        }
        for (const r of batch.put ?? []) {
          st.put.run([
            r.id, r.scope, r.prompt, r.promptHash, r.answer, r.answerBytes,
            new Uint8Array(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength),
            r.created, r.lastAccess, r.expiresAt, r.hits,
            r.metadata === undefined ? null : JSON.stringify(r.metadata), r.thresholdOffset ?? 0, seq,
          ]);
        }
        for (const t of batch.touch ?? []) st.touch.run([t.lastAccess, t.hits, t.thresholdOffset ?? null, seq, t.id]);
        this.setMeta('seq', seq);
      });
    } catch (e) {
      throw this.wrap(e, 'write');
    }
    this.seq = seq;
    return seq;
  }

  async get(id: number) {
    const r = this.read(() => this.stmts().get.get([id]));
    return r ? toRow(r) : undefined;
  }

  async scan(onRows: (rows: CacheRow[]) => void) {
    let last = 0;
    for (;;) {
      const rows = this.read(() => this.stmts().page.all([last, this.pageRows]));
      if (!rows.length) return;
      onRows(rows.map(toRow));
      last = Number(rows[rows.length - 1]![0]);
    }
  }

  async changesSince(seq: number): Promise<StoreChanges | undefined> {
    if (Number(this.meta('clear_seq') ?? 0) > seq) return undefined;
    return this.read(() => ({
      rows: this.stmts().after.all([seq]).map(toRow),
      deleted: this.stmts().deletedAfter.all([seq]).map((r) => Number(r[0])),
    }));
  }

  async loadSnapshot(): Promise<StoreSnapshot | undefined> {
    let bytes = new Uint8Array(0);
    let at = 0;
    const seq = await this.loadSnapshotChunks(
      (size) => ((bytes = new Uint8Array(size)), true),
      (chunk) => {
        bytes.set(chunk, at);
        at += chunk.length;
      },
    );
    return seq === undefined ? undefined : { seq, bytes };
  }

  async loadSnapshotChunks(accept: (size: number, seq: number) => boolean, onChunk: (chunk: Uint8Array) => void): Promise<number | undefined> {
    const seq = this.meta('snapshot_seq');
    const size = Number(this.meta('snapshot_bytes') ?? -1);
    const gen = Number(this.meta('snapshot_gen') ?? 0);
    if (seq === undefined || seq === null || size < 0) return undefined;
    const inFile = Number(this.meta('snapshot_file') ?? 0) === 1;
    if (inFile && !this.files) return undefined;  // written by a store with files: the rows rebuild it
    // clear() drops the chunks with the rows; a file outlives it until the next commit
    if (inFile && Number(this.meta('clear_seq') ?? 0) > Number(seq)) return undefined;
    if (!accept(size, Number(seq))) return undefined;
    if (inFile) {
      // Missing or of another length (a torn write the switch never saw): no snapshot. The core
      // checks the bytes themselves (XXH64) as they stream in.
      const ok = await this.files!.read(gen, size, onChunk).catch((e) => {
        throw this.wrap(e, 'snapshot read');
      });
      return ok ? Number(seq) : undefined;
    }
    let at = 0;
    let torn = false;
    this.read(() => {
      this.stmts().chunks.each([gen], ([c]) => {
        const b = c as Uint8Array;
        if (at + b.length > size) return !(torn = true);
        onChunk(b);
        at += b.length;
      });
    });
    // Torn or foreign chunks: no snapshot (the rows rebuild the index).
    return torn || at !== size ? undefined : Number(seq);
  }

  /**
   * Writes a snapshot as a new chunk generation in transactions of about checkpointSliceMs each,
   * yielding between them so that applies run meanwhile, then switches to it in one small
   * transaction. A crash before the switch leaves the previous snapshot in place.
   */
  saveSnapshot(s: StoreSnapshot): Promise<void> {
    return this.chunks.save(s);
  }

  /**
   * A snapshot written chunk by chunk as the core serializes it (one checkpoint at a time: this
   * waits for the one before). Each write is one transaction; commit() makes the chunks the
   * current snapshot, abort() drops them.
   */
  beginSnapshot(): Promise<SnapshotSink> {
    return this.chunks.begin();
  }

  /** PRAGMA integrity_check: 'ok' or SQLite's list of problems. */
  integrityCheck(): string {
    const rows = this.read(() => {
      const s = this.db!.prepare('PRAGMA integrity_check');
      try {
        return s.all([]);
      } finally {
        s.finalize();
      }
    });
    return rows.map((r) => String(r[0])).join('\n');
  }

  /** The database's size in bytes (pages in use and free), with its snapshot files. */
  databaseBytes(): number {
    const p = this.pages();
    return p.count * p.pageSize + (this.files?.bytes() ?? 0);
  }

  /** Page size, page count and free pages (deleted rows leave free pages the file keeps). */
  pages(): { pageSize: number; count: number; free: number } {
    const q = (pragma: string) => {
      const s = this.db!.prepare(`PRAGMA ${pragma}`);
      try {
        return Number(s.get([])![0]);
      } finally {
        s.finalize();
      }
    };
    return this.read(() => ({ pageSize: q('page_size'), count: q('page_count'), free: q('freelist_count') }));
  }

  /** Gives free pages back to the file system (a database created with auto_vacuum =
   * INCREMENTAL; a no-op otherwise), then checkpoints so that the file itself shrinks. */
  releaseFreePages(): void {
    this.read(() => this.db!.exec('PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);'));
  }

  count(): number {
    return Number(this.read(() => this.stmts().count.get([]))![0]);
  }

  async destroy() {
    await this.chunks.idle();
    this.closeDb();
    await this.files?.keepOnly(undefined);
    this.wipe();
    this.seq = 0;
  }

  async close() {
    await this.chunks.idle();
    this.closeDb();
  }

  // ---- internals ----

  private closeDb() {
    for (const s of Object.values(this.st ?? {})) s.finalize();
    this.st = undefined;
    try {
      this.db?.close();
    } finally {
      this.db = undefined;
    }
  }

  private stmts() {
    if (!this.st) throw new SemcacheError('CLOSED', `the ${this.kind} store ${this.where} is closed`);
    return this.st;
  }

  protected meta(key: string): unknown {
    return this.stmts().getMeta.get([key])?.[0];
  }

  private setMeta(key: string, value: unknown) {
    this.stmts().setMeta.run([key, value]);
  }

  protected tx(f: () => void) {
    const db = this.db!;
    if (db.transaction) {
      db.transaction(f);
      return;
    }
    db.exec('BEGIN IMMEDIATE');
    try {
      f();
      db.exec('COMMIT');
    } catch (e) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back (e.g. after SQLITE_FULL): nothing to undo
      }
      throw e;
    }
  }

  protected read<T>(f: () => T): T {
    this.stmts();
    try {
      return f();
    } catch (e) {
      throw this.wrap(e, 'read');
    }
  }

  protected wrap(e: unknown, what: string): SemcacheError {
    if (e instanceof SemcacheError) return e;
    const msg = (e as Error)?.message ?? String(e);
    const code = sqliteCode(e);
    if (code === 'FULL') return new SemcacheError('QUOTA_EXCEEDED', `${what} failed: storage for ${this.where} is full (${msg})`, { cause: e });
    if (code === 'CORRUPT') {
      return new SemcacheError('CORRUPT_DATABASE', `${what} failed: the database ${this.where} is corrupt (${msg}); open with onCorrupt: 'reset' to start fresh`, { cause: e });
    }
    return new SemcacheError('STORE_FAILED', `${what} failed on ${this.where}: ${msg}`, { cause: e });
  }
}
