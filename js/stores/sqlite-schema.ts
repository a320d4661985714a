// The one SQLite schema of semcache, shared by the Node file store (better-sqlite3), the browser
// OPFS store (@sqlite.org/sqlite-wasm, opfs-sahpool) and the Durable Object store
// (ctx.storage.sql): tables, statements, migrations, and rows as CacheRows. The store logic over
// it is sqlite-store.ts.
import { SemcacheError } from '../errors.js';
import type { CacheRow } from '../store.js';

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
export type Tables = ReturnType<typeof tablesOf>;

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
export type Statements = Record<keyof typeof SQL, SqlStatement>;

/** A SQLite error: the message and, where the binding tells it, the primary result code name. */
export function sqliteCode(e: unknown): string {
  const err = e as { code?: unknown; resultCode?: unknown; message?: unknown; name?: unknown };
  const s = `${typeof err?.code === 'string' ? err.code : ''} ${String(err?.message ?? e)} ${String(err?.name ?? '')}`;
  if (/SQLITE_FULL|database or disk is full|QuotaExceeded/i.test(s)) return 'FULL';
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(s)) return 'CORRUPT';
  return '';
}

/**
 * Brings the tables to SCHEMA_VERSION (call it in the open's transaction). Versions this code knows
 * are migrated in place; the snapshot is dropped on the way (an accelerator: the next open
 * rebuilds it from the rows). A newer version is refused: this code would misread it.
 */
export function migrate(db: SqlDb, t: Tables, where: string): void {
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
    throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${where} has schema version ${String(version)}, this semcache reads up to ${SCHEMA_VERSION}`);
  }
  if (legacyDo !== undefined) {
    if (Number(legacyDo) !== 1) throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${where} has Durable Object schema ${String(legacyDo)}, this semcache reads 1`);
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
    throw new SemcacheError('UNSUPPORTED_VERSION', `the database ${where} has schema version ${String(version)}, this semcache reads up to ${SCHEMA_VERSION}`);
  }
  for (const s of schemaOf(t)) db.exec(s);
}

/** A row of the entries table (COLS order) as a CacheRow. */
export function toRow(r: unknown[]): CacheRow {
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
