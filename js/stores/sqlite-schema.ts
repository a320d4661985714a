// The one SQLite schema of semcache and the store logic over it, shared by the Node file store
// (better-sqlite3), the browser OPFS store (@sqlite.org/sqlite-wasm, opfs-sahpool) and the
// Durable Object store (ctx.storage.sql). All three bindings are synchronous, so one class drives
// any of them through a small adapter (SqlDb); only opening the database differs.
import { SemcacheError } from '../errors.js';
import type { CacheRow, CacheStore, SnapshotSink, StoreBatch, StoreChanges, StoreInfo, StoreSnapshot } from '../store.js';

/**
 * 1: the first shared schema. 2: entries carry their feedback offset (threshold_offset), touches
 * move a row's seq (so a replay after a snapshot sees them) and snapshot chunks carry a
 * generation (a checkpoint is written in small transactions and switched to in one). Older
 * databases are migrated in place when opened (see migrate()).
 */
export const SCHEMA_VERSION = 2;

/**
 * Page size of new databases (Node file and OPFS; a Durable Object's is Cloudflare's). Opening
 * 100k entries reads a ~190 MB snapshot through the pager one page at a time: measured in
 * Chromium (opfs-sahpool), 120 MiB of BLOB chunks read in 224 ms with 4 KiB pages, 120 ms with
 * 16 KiB and 39 ms with 64 KiB. Larger pages cost on scattered small writes (a touched row
 * rewrites its whole page), hence 32 KiB rather than 64. Existing files keep theirs.
 */
export const PAGE_SIZE = 32768;

/** What a binding must provide. Blobs are bound as Uint8Array and come back as Uint8Array. */
export interface SqlDb {
  /** One or more statements without parameters. */
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs f in one transaction, for bindings that refuse BEGIN/COMMIT (Durable Objects). */
  transaction?<T>(f: () => T): T;
  close(): void;
}

export interface SqlStatement {
  run(params: unknown[]): void;
  /** First row as an array of column values, or undefined. */
  get(params: unknown[]): unknown[] | undefined;
  /** Every row as arrays of column values. */
  all(params: unknown[]): unknown[][];
  /**
   * Calls f with each row in turn (one row in memory at a time); f returns false to stop. BLOBs
   * may be views into the binding's memory, valid only during that call.
   */
  each(params: unknown[], f: (row: unknown[]) => boolean | void): void;
  finalize(): void;
}

/** Table names: `prefix` lets an embedding application (a Durable Object) keep tables of its own. */
export function tablesOf(prefix = '') {
  if (!/^[A-Za-z0-9_]*$/.test(prefix)) throw new SemcacheError('INVALID_ARGUMENT', `tablePrefix must be [A-Za-z0-9_]*, got ${JSON.stringify(prefix)}`);
  return { meta: `${prefix}meta`, entries: `${prefix}entries`, tombstones: `${prefix}tombstones`, chunks: `${prefix}snapshot_chunks`, seqIndex: `${prefix}entries_seq` };
}
type Tables = ReturnType<typeof tablesOf>;

// `seq` on a row is the batch that last put or touched it, `tombstones` the batch that deleted an
// id: together they say what changed after a snapshot, so an open can load the snapshot and
// replay only that. Snapshot chunks of generation `meta.snapshot_gen` are the current snapshot;
// other generations are a checkpoint being written (or an abandoned one, dropped by the next).
export function schemaOf(t: Tables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.meta} (key TEXT PRIMARY KEY, value) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${t.entries} (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  prompt TEXT NOT NULL,
  prompt_hash TEXT NOT NULL,
  answer TEXT NOT NULL,
  answer_bytes INTEGER NOT NULL,
  vector BLOB NOT NULL,
  created REAL NOT NULL,
  last_access REAL NOT NULL,
  expires_at REAL NOT NULL,
  hits INTEGER NOT NULL,
  metadata TEXT,
  seq INTEGER NOT NULL,
  threshold_offset REAL NOT NULL DEFAULT 0
)`,
    `CREATE INDEX IF NOT EXISTS ${t.seqIndex} ON ${t.entries} (seq)`,
    `CREATE TABLE IF NOT EXISTS ${t.tombstones} (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.chunks} (gen INTEGER NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (gen, n))`,
  ];
}

/** The schema of the default (unprefixed) tables, as one script. */
export const SCHEMA = schemaOf(tablesOf('')).join(';\n') + ';\n';

const COLS = 'id, scope, prompt, prompt_hash, answer, answer_bytes, vector, created, last_access, expires_at, hits, metadata, threshold_offset';

export function statementsOf(t: Tables) {
  return {
    getMeta: `SELECT value FROM ${t.meta} WHERE key = ?`,
    setMeta: `INSERT INTO ${t.meta} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    put: `INSERT OR REPLACE INTO ${t.entries} (${COLS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    del: `DELETE FROM ${t.entries} WHERE id = ?`,
    tomb: `INSERT OR REPLACE INTO ${t.tombstones} (id, seq) VALUES (?, ?)`,
    // A touch moves the row's seq: an open that loads an older snapshot then replays it.
    touch: `UPDATE ${t.entries} SET last_access = ?, hits = ?, threshold_offset = coalesce(?, threshold_offset), seq = ? WHERE id = ?`,
    get: `SELECT ${COLS} FROM ${t.entries} WHERE id = ?`,
    page: `SELECT ${COLS} FROM ${t.entries} WHERE id > ? ORDER BY id LIMIT ?`,
    after: `SELECT ${COLS} FROM ${t.entries} WHERE seq > ? ORDER BY id`,
    deletedAfter: `SELECT id FROM ${t.tombstones} WHERE seq > ?`,
    chunks: `SELECT bytes FROM ${t.chunks} WHERE gen = ? ORDER BY n`,
    putChunk: `INSERT OR REPLACE INTO ${t.chunks} (gen, n, bytes) VALUES (?, ?, ?)`,
    maxGen: `SELECT max(gen) FROM ${t.chunks}`,
    otherGens: `SELECT gen, n FROM ${t.chunks} WHERE gen <> ? LIMIT ?`,
    delChunk: `DELETE FROM ${t.chunks} WHERE gen = ? AND n = ?`,
    count: `SELECT count(*) FROM ${t.entries}`,
    pruneTombs: `DELETE FROM ${t.tombstones} WHERE seq <= ?`,
  } as const;
}
/** The statements over the default tables. */
export const SQL = statementsOf(tablesOf(''));
type Statements = Record<keyof typeof SQL, SqlStatement>;

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
}

/** A SQLite error: the message and, where the binding tells it, the primary result code name. */
export function sqliteCode(e: unknown): string {
  const err = e as { code?: unknown; resultCode?: unknown; message?: unknown; name?: unknown };
  const s = `${typeof err?.code === 'string' ? err.code : ''} ${String(err?.message ?? e)} ${String(err?.name ?? '')}`;
  if (/SQLITE_FULL|database or disk is full|QuotaExceeded/i.test(s)) return 'FULL';
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(s)) return 'CORRUPT';
  return '';
}

/** Lets queued events run (puts arriving while a checkpoint is written). */
const yieldTurn = (): Promise<void> =>
  typeof setImmediate === 'function' ? new Promise((r) => setImmediate(r)) : new Promise((r) => setTimeout(r, 0));

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
  private readonly chunkBytes: number;
  private readonly pageRows: number;
  private readonly sliceMs: number;
  private readonly chunkSync?: 'NORMAL';
  /** @internal See SqliteStoreOptions.checkpointBytes. */
  readonly checkpointBytes: number;
  /** The checkpoint being written: one at a time. */
  private checkpoint: Promise<void> = Promise.resolve();

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
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.pageRows = options.pageRows ?? 2000;
    this.sliceMs = options.checkpointSliceMs ?? 20;
    this.chunkSync = options.chunkSync;
    this.checkpointBytes = options.checkpointBytes ?? 0;
    if (!(Number.isInteger(this.chunkBytes) && this.chunkBytes > 0)) throw new SemcacheError('INVALID_ARGUMENT', `chunkBytes must be a positive integer, got ${this.chunkBytes}`);
    if (!(Number.isInteger(this.pageRows) && this.pageRows > 0)) throw new SemcacheError('INVALID_ARGUMENT', `pageRows must be a positive integer, got ${this.pageRows}`);
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
    this.tx(() => this.migrate());
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

  /**
   * Brings the tables to SCHEMA_VERSION (in the open's transaction). Versions this code knows
   * are migrated in place; the snapshot is dropped on the way (an accelerator: the next open
   * rebuilds it from the rows). A newer version is refused: this code would misread it.
   */
  private migrate() {
    const db = this.db!;
    const t = this.t;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t.meta} (key TEXT PRIMARY KEY, value) WITHOUT ROWID`);
    const metaOf = (key: string) => {
      const s = db.prepare(`SELECT value FROM ${t.meta} WHERE key = ?`);
      try {
        return s.get([key])?.[0];
      } finally {
        s.finalize();
      }
    };
    const version = metaOf('version');
    // The Durable Object store before the schemas were one: meta.schema = 1, entries without
    // seq and threshold_offset, snapshot_chunks (chunk, bytes).
    const legacyDo = version === undefined ? metaOf('schema') : undefined;
    const drop = (keys: string[]) => db.exec(keys.map((k) => `DELETE FROM ${t.meta} WHERE key = '${k}'`).join(';'));
    if (version !== undefined && Number(version) > SCHEMA_VERSION) {
      throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${this.where} has schema version ${String(version)}, this semcache reads up to ${SCHEMA_VERSION}`);
    }
    if (legacyDo !== undefined) {
      if (Number(legacyDo) !== 1) throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${this.where} has Durable Object schema ${String(legacyDo)}, this semcache reads 1`);
      db.exec(`ALTER TABLE ${t.entries} ADD COLUMN seq INTEGER NOT NULL DEFAULT 0`);
      db.exec(`ALTER TABLE ${t.entries} ADD COLUMN threshold_offset REAL NOT NULL DEFAULT 0`);
      db.exec(`DROP TABLE IF EXISTS ${t.chunks}`);
      drop(['schema', 'snapshot_seq', 'snapshot_bytes', 'snapshot_chunks']);
      // No snapshot survives and rows have seq 0: nothing before this point can be replayed.
      const seq = Number(metaOf('seq') ?? 0);
      const s = db.prepare(statementsOf(t).setMeta);
      try {
        s.run(['clear_seq', seq]);
        s.run(['version', SCHEMA_VERSION]);
      } finally {
        s.finalize();
      }
    } else if (version !== undefined && Number(version) === 1) {
      db.exec(`ALTER TABLE ${t.entries} ADD COLUMN threshold_offset REAL NOT NULL DEFAULT 0`);
      db.exec(`DROP TABLE IF EXISTS ${t.chunks}`);
      drop(['snapshot_seq', 'snapshot_bytes']);
      const s = db.prepare(statementsOf(t).setMeta);
      try {
        s.run(['version', SCHEMA_VERSION]);
      } finally {
        s.finalize();
      }
    } else if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
      throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${this.where} has schema version ${String(version)}, this semcache reads up to ${SCHEMA_VERSION}`);
    }
    for (const s of schemaOf(t)) db.exec(s);
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
    if (!accept(size, Number(seq))) return undefined;
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
  async saveSnapshot(s: StoreSnapshot): Promise<void> {
    const sink = await this.openSink();
    try {
      for (let at = 0; at < s.bytes.length; ) {
        const t0 = Date.now();
        at = sink.put(s.bytes, at, () => Date.now() - t0 < this.sliceMs);
        if (at < s.bytes.length) await yieldTurn();
      }
    } catch (e) {
      await sink.abort();
      throw e;
    }
    await sink.commit(s.seq);
  }

  /**
   * A snapshot written chunk by chunk as the core serializes it (one checkpoint at a time: this
   * waits for the one before). Each write is one transaction; commit() makes the chunks the
   * current snapshot, abort() drops them.
   */
  beginSnapshot(): Promise<SnapshotSink> {
    return this.openSink();
  }

  private openSink(): Promise<SqliteSnapshotSink> {
    const before = this.checkpoint;
    let release!: () => void;
    this.checkpoint = new Promise<void>((r) => (release = r));
    return before.then(() => {
      try {
        const st = this.stmts();
        const gen = Math.max(Number(this.meta('snapshot_gen') ?? 0), Number(st.maxGen.get([])?.[0] ?? 0)) + 1;
        return new SqliteSnapshotSink(this, gen, release);
      } catch (e) {
        release();
        throw this.wrap(e, 'snapshot write');
      }
    });
  }

  /** @internal Chunks of bytes from `at` into generation `gen` (from chunk `n`) in one transaction, while `more()`. */
  putChunks(gen: number, n: number, bytes: Uint8Array, at: number, more: () => boolean): { n: number; at: number } {
    const st = this.stmts();
    const relax = !!this.chunkSync;
    try {
      if (relax) this.db!.exec(`PRAGMA synchronous = ${this.chunkSync}`);
      try {
        this.tx(() => {
          do {
            st.putChunk.run([gen, n++, bytes.subarray(at, Math.min(bytes.length, at + this.chunkBytes))]);
            at += this.chunkBytes;
          } while (at < bytes.length && more());
        });
      } finally {
        if (relax) this.db!.exec('PRAGMA synchronous = FULL');
      }
    } catch (e) {
      throw this.wrap(e, 'snapshot write');
    }
    return { n, at: Math.min(at, bytes.length) };
  }

  /** @internal A PASSIVE WAL checkpoint (see SqliteStoreOptions.checkpointBytes). */
  checkpointWal() {
    try {
      this.stmts();
      this.db!.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (e) {
      throw this.wrap(e, 'snapshot write');
    }
  }

  /** @internal Makes generation `gen` (of `size` bytes) the snapshot for rows up to `seq`, then drops the others. */
  async commitSnapshot(gen: number, size: number, seq: number) {
    const st = this.stmts();
    try {
      this.tx(() => {
        // A clear() after this snapshot was taken deleted its chunks: it must not become current.
        if (Number(this.meta('clear_seq') ?? 0) > seq) return;
        this.setMeta('snapshot_gen', gen);
        this.setMeta('snapshot_seq', seq);
        this.setMeta('snapshot_bytes', size);
        // Deletions the snapshot already reflects need no replay.
        st.pruneTombs.run([seq]);
      });
    } catch (e) {
      throw this.wrap(e, 'snapshot write');
    }
    await this.dropOtherGenerations();
  }

  /** @internal Deletes every chunk generation but the current one, in slices (deleting 100 MB of BLOBs is not free). */
  async dropOtherGenerations() {
    try {
      for (;;) {
        const t0 = Date.now();
        let left = false;
        this.tx(() => {
          const st = this.stmts();
          const keep = Number(this.meta('snapshot_gen') ?? 0);
          do {
            const old = st.otherGens.all([keep, 16]);
            for (const [g, n] of old) st.delChunk.run([g, n]);
            left = old.length === 16;
          } while (left && Date.now() - t0 < this.sliceMs);
        });
        if (!left) break;
        await yieldTurn();
      }
    } catch (e) {
      throw this.wrap(e, 'snapshot write');
    }
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

  /** The database's size in bytes (pages in use and free). */
  databaseBytes(): number {
    return this.read(() => {
      const a = this.db!.prepare('PRAGMA page_count');
      const b = this.db!.prepare('PRAGMA page_size');
      try {
        return Number(a.get([])![0]) * Number(b.get([])![0]);
      } finally {
        a.finalize();
        b.finalize();
      }
    });
  }

  count(): number {
    return Number(this.read(() => this.stmts().count.get([]))![0]);
  }

  async destroy() {
    await this.checkpoint;
    this.closeDb();
    this.wipe();
    this.seq = 0;
  }

  async close() {
    await this.checkpoint;
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

function toRow(r: unknown[]): CacheRow {
  const v = r[6] as Uint8Array;
  // Copy: the binding's bytes may be unaligned or reused.
  const vector = new Float32Array(v.byteLength >> 2);
  new Uint8Array(vector.buffer).set(v.subarray(0, vector.byteLength));
  const row: CacheRow = {
    id: Number(r[0]),
    scope: r[1] as string,
    prompt: r[2] as string,
    promptHash: r[3] as string,
    answer: r[4] as string,
    answerBytes: Number(r[5]),
    vector,
    created: Number(r[7]),
    lastAccess: Number(r[8]),
    expiresAt: Number(r[9]),
    hits: Number(r[10]),
  };
  if (r[11] !== null && r[11] !== undefined) row.metadata = JSON.parse(r[11] as string);
  const offset = Number(r[12] ?? 0);
  if (offset) row.thresholdOffset = offset;
  return row;
}

/** A snapshot being written into a SqliteStore (see SqliteStore.beginSnapshot). */
export class SqliteSnapshotSink implements SnapshotSink {
  private n = 0;
  private size = 0;
  private open = true;
  private sinceCheckpoint = 0;

  constructor(
    private readonly store: SqliteStore,
    private readonly gen: number,
    private readonly release: () => void,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.put(chunk, 0, () => true);
    this.sinceCheckpoint += chunk.length;
    if (this.store.checkpointBytes && this.sinceCheckpoint >= this.store.checkpointBytes) {
      this.sinceCheckpoint = 0;
      await yieldTurn();
      this.store.checkpointWal();
    }
  }

  /** @internal Writes chunk from `at` in one transaction while `more()`; returns where it stopped. */
  put(chunk: Uint8Array, at: number, more: () => boolean): number {
    if (!this.open) throw new SemcacheError('CLOSED', 'this snapshot was already committed or aborted');
    const r = this.store.putChunks(this.gen, this.n, chunk, at, more);
    this.size += r.at - at;
    this.n = r.n;
    return r.at;
  }

  async commit(seq: number): Promise<void> {
    this.end();
    try {
      await this.store.commitSnapshot(this.gen, this.size, seq);
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    if (!this.open) return;
    this.end();
    try {
      await this.store.dropOtherGenerations();
    } finally {
      this.release();
    }
  }

  private end() {
    if (!this.open) throw new SemcacheError('CLOSED', 'this snapshot was already committed or aborted');
    this.open = false;
  }
}
