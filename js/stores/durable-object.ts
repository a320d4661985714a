// A CacheStore over a Durable Object's SQLite storage (`ctx.storage.sql`). One object owns one
// shard: its rows are the truth, the index snapshot is kept in 1 MiB chunks (DO SQL refuses
// values over 2 MB).
//
// Schema (mirrors the other SQLite stores):
//   entries(id INTEGER PRIMARY KEY, scope TEXT, prompt TEXT, prompt_hash TEXT, answer TEXT,
//           answer_bytes INTEGER, vector BLOB, created REAL, last_access REAL, expires_at REAL,
//           hits INTEGER, metadata TEXT)
//   meta(key TEXT PRIMARY KEY, value)   keys: schema, info (JSON), seq, snapshot_seq,
//                                        snapshot_bytes, snapshot_chunks
//   snapshot_chunks(chunk INTEGER PRIMARY KEY, bytes BLOB)
import { SemcacheError } from '../errors.js';
import type { CacheRow, CacheStore, StoreBatch, StoreInfo, StoreSnapshot } from '../store.js';

/** The slice of workerd's SqlStorage this store uses. */
export interface SqlStorageLike {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] };
}

/** The slice of DurableObjectStorage this store uses. */
export interface DurableObjectStorageLike {
  readonly sql: SqlStorageLike;
  transactionSync<T>(fn: () => T): T;
}

export interface DurableObjectStoreOptions {
  /** Prefix for the three tables, when the object keeps tables of its own. Default ''. */
  tablePrefix?: string;
  /** Snapshot chunk size in bytes. Default 1 MiB (DO SQL's limit is 2 MB per value). */
  chunkBytes?: number;
  /** Rows per scan page. Default 1000. */
  pageRows?: number;
}

const SCHEMA_VERSION = 1;
/** DO SQL's limit on one row/value. */
export const DO_MAX_ROW_BYTES = 2_000_000;

export class DurableObjectStore implements CacheStore {
  readonly kind = 'durable-object';
  private readonly sql: SqlStorageLike;
  private readonly t: { entries: string; meta: string; chunks: string };
  private readonly chunkBytes: number;
  private readonly pageRows: number;
  private ready = false;
  private closed = false;

  constructor(
    private readonly storage: DurableObjectStorageLike,
    options: DurableObjectStoreOptions = {},
  ) {
    const p = options.tablePrefix ?? '';
    if (!/^[A-Za-z0-9_]*$/.test(p)) throw new SemcacheError('INVALID_ARGUMENT', `tablePrefix must be [A-Za-z0-9_]*, got ${JSON.stringify(p)}`);
    this.sql = storage.sql;
    this.t = { entries: `${p}entries`, meta: `${p}meta`, chunks: `${p}snapshot_chunks` };
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.pageRows = options.pageRows ?? 1000;
    if (!(this.chunkBytes > 0 && this.chunkBytes <= DO_MAX_ROW_BYTES - 1024)) {
      throw new SemcacheError('INVALID_ARGUMENT', `chunkBytes must be in 1..${DO_MAX_ROW_BYTES - 1024}`);
    }
  }

  /** The info the store was opened with before, without opening a cache (no embedder probe needed). */
  peekInfo(): StoreInfo | undefined {
    this.init();
    const v = this.meta('info');
    return typeof v === 'string' ? (JSON.parse(v) as StoreInfo) : undefined;
  }

  /** The rows' batch sequence number and the saved snapshot's (null when there is none). */
  seqs(): { seq: number; snapshotSeq: number | null } {
    this.init();
    const snap = this.meta('snapshot_seq');
    return { seq: Number(this.meta('seq') ?? 0), snapshotSeq: snap === undefined || snap === null ? null : Number(snap) };
  }

  async open(info: StoreInfo) {
    this.closed = false;
    this.init();
    return this.storage.transactionSync(() => {
      const have = this.meta('info');
      if (typeof have === 'string') return { info: JSON.parse(have) as StoreInfo, seq: Number(this.meta('seq') ?? 0), created: false };
      this.setMeta('info', JSON.stringify({ dimensions: info.dimensions, space: info.space, embedder: info.embedder }));
      this.setMeta('seq', 0);
      return { info: { ...info }, seq: 0, created: true };
    });
  }

  async apply(batch: StoreBatch): Promise<number> {
    this.check();
    // Checked before the transaction: a refused row leaves the batch unapplied, not half-applied.
    const rows = (batch.put ?? []).map((r) => this.toSql(r));
    // Writes become durable before the object's next output leaves it (workerd's output gate),
    // so a caller that sees `apply` resolve can never observe them lost.
    return this.run(() =>
      this.storage.transactionSync(() => {
        const { entries } = this.t;
        if (batch.clear) this.sql.exec(`DELETE FROM ${entries}`);
        for (const id of batch.delete ?? []) this.sql.exec(`DELETE FROM ${entries} WHERE id = ?`, id);
        for (const r of rows) {
          this.sql.exec(
            `INSERT OR REPLACE INTO ${entries} (id, scope, prompt, prompt_hash, answer, answer_bytes, vector, created, last_access, expires_at, hits, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            ...r,
          );
        }
        for (const t of batch.touch ?? []) {
          this.sql.exec(`UPDATE ${entries} SET last_access = ?, hits = ? WHERE id = ?`, t.lastAccess, t.hits, t.id);
        }
        const seq = Number(this.meta('seq') ?? 0) + 1;
        this.setMeta('seq', seq);
        return seq;
      }),
    );
  }

  async get(id: number): Promise<CacheRow | undefined> {
    this.check();
    const rows = this.run(() => this.sql.exec(`SELECT * FROM ${this.t.entries} WHERE id = ?`, id).toArray());
    return rows.length ? fromSql(rows[0]!) : undefined;
  }

  async scan(onRows: (rows: CacheRow[]) => void): Promise<void> {
    this.check();
    let after = 0;
    for (;;) {
      const page = this.run(() => this.sql.exec(`SELECT * FROM ${this.t.entries} WHERE id > ? ORDER BY id LIMIT ?`, after, this.pageRows).toArray());
      if (!page.length) return;
      onRows(page.map(fromSql));
      after = Number(page[page.length - 1]!.id);
    }
  }

  async loadSnapshot(): Promise<StoreSnapshot | undefined> {
    this.check();
    const seq = this.meta('snapshot_seq');
    const size = Number(this.meta('snapshot_bytes') ?? -1);
    const count = Number(this.meta('snapshot_chunks') ?? -1);
    if (seq === undefined || seq === null || size < 0 || count < 0) return undefined;
    const chunks = this.run(() => this.sql.exec(`SELECT chunk, bytes FROM ${this.t.chunks} ORDER BY chunk`).toArray());
    // A torn or foreign snapshot is not an error: the rows are the truth and the cache rebuilds.
    if (chunks.length !== count) return undefined;
    const bytes = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const b = new Uint8Array(c.bytes as ArrayBuffer);
      if (Number(c.chunk) !== i || at + b.length > size) return undefined;
      bytes.set(b, at);
      at += b.length;
    }
    if (at !== size) return undefined;
    return { seq: Number(seq), bytes };
  }

  async saveSnapshot(snapshot: StoreSnapshot): Promise<void> {
    this.check();
    const { bytes } = snapshot;
    this.run(() =>
      this.storage.transactionSync(() => {
        this.sql.exec(`DELETE FROM ${this.t.chunks}`);
        let n = 0;
        for (let at = 0; at < bytes.length; at += this.chunkBytes, n++) {
          const part = bytes.slice(at, Math.min(bytes.length, at + this.chunkBytes));
          this.sql.exec(`INSERT INTO ${this.t.chunks} (chunk, bytes) VALUES (?, ?)`, n, part.buffer);
        }
        this.setMeta('snapshot_seq', snapshot.seq);
        this.setMeta('snapshot_bytes', bytes.length);
        this.setMeta('snapshot_chunks', n);
      }),
    );
  }

  async destroy(): Promise<void> {
    this.init();
    this.run(() =>
      this.storage.transactionSync(() => {
        this.sql.exec(`DELETE FROM ${this.t.entries}`);
        this.sql.exec(`DELETE FROM ${this.t.chunks}`);
        this.sql.exec(`DELETE FROM ${this.t.meta} WHERE key <> 'schema'`);
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  // ---- internals ----

  private init() {
    if (this.ready) return;
    const { entries, meta, chunks } = this.t;
    this.run(() => {
      this.sql.exec(
        `CREATE TABLE IF NOT EXISTS ${entries} (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, prompt TEXT NOT NULL, prompt_hash TEXT NOT NULL, answer TEXT NOT NULL, answer_bytes INTEGER NOT NULL, vector BLOB NOT NULL, created REAL NOT NULL, last_access REAL NOT NULL, expires_at REAL NOT NULL, hits INTEGER NOT NULL, metadata TEXT)`,
      );
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${chunks} (chunk INTEGER PRIMARY KEY, bytes BLOB NOT NULL)`);
    });
    const v = this.meta('schema');
    if (v === undefined) this.setMeta('schema', SCHEMA_VERSION);
    else if (Number(v) !== SCHEMA_VERSION) {
      throw new SemcacheError('UNSUPPORTED_VERSION', `Durable Object store schema ${String(v)}, this version reads ${SCHEMA_VERSION}`);
    }
    this.ready = true;
  }

  private meta(key: string): unknown {
    const rows = this.run(() => this.sql.exec(`SELECT value FROM ${this.t.meta} WHERE key = ?`, key).toArray());
    return rows.length ? rows[0]!.value : undefined;
  }

  private setMeta(key: string, value: unknown) {
    this.run(() => this.sql.exec(`INSERT OR REPLACE INTO ${this.t.meta} (key, value) VALUES (?, ?)`, key, value));
  }

  private toSql(r: CacheRow): unknown[] {
    const metadata = r.metadata === undefined ? null : JSON.stringify(r.metadata);
    const vector = r.vector.slice().buffer;
    const size = 2 * (r.prompt.length + r.answer.length + r.scope.length) + (metadata?.length ?? 0) * 2 + vector.byteLength;
    // UTF-16 length x2 bounds the UTF-8 size from above only for BMP text; measure when close.
    if (size > DO_MAX_ROW_BYTES / 2) {
      const enc = new TextEncoder();
      const exact = enc.encode(r.prompt).length + enc.encode(r.answer).length + enc.encode(r.scope).length + (metadata ? enc.encode(metadata).length : 0) + vector.byteLength;
      if (exact > DO_MAX_ROW_BYTES - 4096) {
        throw new SemcacheError('STORE_FAILED', `entry ${r.id} is ${exact} bytes (prompt + answer + metadata + vector), over Durable Object SQL's 2 MB row limit`);
      }
    }
    return [r.id, r.scope, r.prompt, r.promptHash, r.answer, r.answerBytes, vector, r.created, r.lastAccess, r.expiresAt, r.hits, metadata];
  }

  private run<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof SemcacheError) throw e;
      throw new SemcacheError('STORE_FAILED', `Durable Object SQL failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  private check() {
    if (this.closed) throw new SemcacheError('CLOSED', 'the Durable Object store is closed');
    this.init();
  }
}

function fromSql(r: Record<string, unknown>): CacheRow {
  const row: CacheRow = {
    id: Number(r.id),
    scope: String(r.scope),
    prompt: String(r.prompt),
    promptHash: String(r.prompt_hash),
    answer: String(r.answer),
    answerBytes: Number(r.answer_bytes),
    // A blob of the wrong length restores as an empty vector, which the cache skips.
    vector: vectorOf(r.vector),
    created: Number(r.created),
    lastAccess: Number(r.last_access),
    expiresAt: Number(r.expires_at),
    hits: Number(r.hits),
  };
  if (typeof r.metadata === 'string') row.metadata = JSON.parse(r.metadata);
  return row;
}

function vectorOf(v: unknown): Float32Array {
  if (!(v instanceof ArrayBuffer) || v.byteLength % 4 !== 0) return new Float32Array(0);
  return new Float32Array(v.slice(0));
}
