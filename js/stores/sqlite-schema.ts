// The SQLite schema and the store logic shared by the Node file store (better-sqlite3) and the
// browser OPFS store (@sqlite.org/sqlite-wasm, opfs-sahpool). Both bindings are synchronous, so
// one class drives either through a four-method adapter; only opening the file differs.
import { SemcacheError } from '../errors.js';
import type { CacheRow, CacheStore, StoreBatch, StoreChanges, StoreInfo, StoreSnapshot } from '../store.js';

export const SCHEMA_VERSION = 1;

/** What a binding must provide. Blobs are bound as Uint8Array and come back as Uint8Array. */
export interface SqlDb {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
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

// `seq` on a row is the batch that last put it, `tombstones` the batch that deleted an id: together
// they say what changed after a snapshot, so an open can load the snapshot and replay only that.
// Touches (LRU/LFU bookkeeping) update rows without bumping seq: a replay may lag them slightly.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
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
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_seq ON entries (seq);
CREATE TABLE IF NOT EXISTS tombstones (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot_chunks (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
`;

const COLS = 'id, scope, prompt, prompt_hash, answer, answer_bytes, vector, created, last_access, expires_at, hits, metadata';

export const SQL = {
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  put: `INSERT OR REPLACE INTO entries (${COLS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  del: 'DELETE FROM entries WHERE id = ?',
  tomb: 'INSERT OR REPLACE INTO tombstones (id, seq) VALUES (?, ?)',
  touch: 'UPDATE entries SET last_access = ?, hits = ? WHERE id = ?',
  get: `SELECT ${COLS} FROM entries WHERE id = ?`,
  page: `SELECT ${COLS} FROM entries WHERE id > ? ORDER BY id LIMIT ?`,
  after: `SELECT ${COLS} FROM entries WHERE seq > ? ORDER BY id`,
  deletedAfter: 'SELECT id FROM tombstones WHERE seq > ?',
  chunks: 'SELECT bytes FROM snapshot_chunks ORDER BY n',
  putChunk: 'INSERT INTO snapshot_chunks (n, bytes) VALUES (?, ?)',
  count: 'SELECT count(*) FROM entries',
  pruneTombs: 'DELETE FROM tombstones WHERE seq <= ?',
} as const;

/** Snapshot BLOB rows are cut at 1 MiB: SQLite handles them in one overflow chain each. */
const CHUNK = 1 << 20;
const PAGE = 2000;

/** A SQLite error: the message and, where the binding tells it, the primary result code name. */
export function sqliteCode(e: unknown): string {
  const err = e as { code?: unknown; resultCode?: unknown; message?: unknown; name?: unknown };
  const s = `${typeof err?.code === 'string' ? err.code : ''} ${String(err?.message ?? e)} ${String(err?.name ?? '')}`;
  if (/SQLITE_FULL|database or disk is full|QuotaExceeded/i.test(s)) return 'FULL';
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(s)) return 'CORRUPT';
  return '';
}

/**
 * The CacheStore over any SqlDb. `openDb` opens (or creates) the database; `wipe` deletes it
 * (for onCorrupt: 'reset' and destroy()). Every apply is one transaction: durable when the
 * binding's commit is (journal + fsync, set up by the caller's pragmas).
 */
export class SqliteStore implements CacheStore {
  private db?: SqlDb;
  private st?: Record<keyof typeof SQL, SqlStatement>;
  private seq = 0;

  constructor(
    readonly kind: string,
    /** Names the database in errors (a path, or opfs:NAME). */
    readonly where: string,
    private readonly openDb: () => SqlDb,
    private readonly wipe: () => void,
    private readonly onCorrupt: 'error' | 'reset' = 'error',
  ) {}

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
    db.exec(SCHEMA);
    this.st = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<keyof typeof SQL, SqlStatement>;
    const stored = this.meta('info');
    const version = this.meta('version');
    if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
      throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${this.where} has schema version ${String(version)}, this semcache reads ${SCHEMA_VERSION}`);
    }
    let created = false;
    let have = info;
    if (stored === undefined) {
      this.tx(() => {
        this.setMeta('version', SCHEMA_VERSION);
        this.setMeta('info', JSON.stringify(info));
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
          this.db!.exec('DELETE FROM entries; DELETE FROM tombstones; DELETE FROM snapshot_chunks;');
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
            r.metadata === undefined ? null : JSON.stringify(r.metadata), seq,
          ]);
        }
        for (const t of batch.touch ?? []) st.touch.run([t.lastAccess, t.hits, t.id]);
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
      const rows = this.read(() => this.stmts().page.all([last, PAGE]));
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
    let bytes: Uint8Array | undefined;
    const seq = await this.loadSnapshotInto((n) => (bytes = new Uint8Array(n)));
    return seq === undefined ? undefined : { seq, bytes: bytes! };
  }

  async loadSnapshotInto(alloc: (size: number, seq: number) => Uint8Array | undefined): Promise<number | undefined> {
    const seq = this.meta('snapshot_seq');
    const size = Number(this.meta('snapshot_bytes') ?? -1);
    if (seq === undefined || size < 0) return undefined;
    const out = alloc(size, Number(seq));
    if (!out) return undefined;
    let at = 0;
    let torn = false;
    this.read(() => {
      const st = this.stmts().chunks;
      st.each([], ([c]) => {
        const b = c as Uint8Array;
        if (at + b.length > size) return !(torn = true);
        out.set(b, at);
        at += b.length;
      });
    });
    // Torn or foreign chunks: no snapshot (the rows rebuild the index).
    return torn || at !== size ? undefined : Number(seq);
  }

  async saveSnapshot(s: StoreSnapshot) {
    const st = this.stmts();
    try {
      this.tx(() => {
        this.db!.exec('DELETE FROM snapshot_chunks');
        for (let i = 0, n = 0; i < s.bytes.length; i += CHUNK, n++) st.putChunk.run([n, s.bytes.subarray(i, i + CHUNK)]);
        this.setMeta('snapshot_seq', s.seq);
        this.setMeta('snapshot_bytes', s.bytes.length);
        // Deletions the snapshot already reflects need no replay.
        st.pruneTombs.run([s.seq]);
      });
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
    this.closeDb();
    this.wipe();
    this.seq = 0;
  }

  async close() {
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

  private meta(key: string): unknown {
    return this.stmts().getMeta.get([key])?.[0];
  }

  private setMeta(key: string, value: unknown) {
    this.stmts().setMeta.run([key, value]);
  }

  private tx(f: () => void) {
    this.db!.exec('BEGIN IMMEDIATE');
    try {
      f();
      this.db!.exec('COMMIT');
    } catch (e) {
      try {
        this.db!.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back (e.g. after SQLITE_FULL): nothing to undo
      }
      throw e;
    }
  }

  private read<T>(f: () => T): T {
    this.stmts();
    try {
      return f();
    } catch (e) {
      throw this.wrap(e, 'read');
    }
  }

  private wrap(e: unknown, what: string): SemcacheError {
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
  return row;
}
