// A CacheStore over a Durable Object's SQLite storage (`ctx.storage.sql`). One object owns one
// shard: its rows are the truth, the index snapshot is kept in 1 MiB chunks (DO SQL refuses
// values over 2 MB).
//
// The schema and the store logic are the shared ones (sqlite-schema.ts and sqlite-store.ts:
// entries, tombstones, meta, snapshot_chunks), driven through a small adapter: DO SQL is
// synchronous like the other bindings, takes its parameters as exec(sql, ...bindings), returns
// BLOBs as ArrayBuffer and refuses BEGIN/COMMIT (transactions go through
// storage.transactionSync). Objects written by the earlier DO-only schema (meta.schema = 1) are
// migrated in place when opened.
import { SemcacheError } from '../errors.js';
import type { StoreBatch, StoreInfo } from '../store.js';
import { tablesOf, type SqlDb, type SqlStatement } from './sqlite-schema.js';
import { SqliteStore } from './sqlite-store.js';

/** The slice of workerd's SqlStorage this store uses. */
export interface SqlStorageLike {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[]; raw(): IterableIterator<unknown[]> };
}

/** The slice of DurableObjectStorage this store uses. */
export interface DurableObjectStorageLike {
  readonly sql: SqlStorageLike;
  transactionSync<T>(fn: () => T): T;
}

export interface DurableObjectStoreOptions {
  /** Prefix for the store's tables, when the object keeps tables of its own. Default ''. */
  tablePrefix?: string;
  /** Snapshot chunk size in bytes. Default 1 MiB (DO SQL's limit is 2 MB per value). */
  chunkBytes?: number;
  /** Rows per scan page. Default 1000. */
  pageRows?: number;
}

/** DO SQL's limit on one row/value. */
export const DO_MAX_ROW_BYTES = 2_000_000;

/** DO SQL wants ArrayBuffers for BLOBs. */
function bind(v: unknown): unknown {
  if (!(v instanceof Uint8Array)) return v;
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v.buffer : v.slice().buffer;
}

function unblob(row: unknown[]): unknown[] {
  for (let i = 0; i < row.length; i++) if (row[i] instanceof ArrayBuffer) row[i] = new Uint8Array(row[i] as ArrayBuffer);
  return row;
}

/** ctx.storage as the shared store's SqlDb. */
export function doSqlDb(storage: DurableObjectStorageLike): SqlDb {
  const sql = storage.sql;
  const rows = (query: string, p: unknown[]) => sql.exec(query, ...p.map(bind)).raw();
  return {
    // exec takes one statement when it has bindings; scripts here have none but are split anyway
    // (none of the store's SQL has a ';' inside a literal).
    exec: (script) => {
      for (const s of script.split(';')) if (s.trim()) sql.exec(s);
    },
    prepare(query): SqlStatement {
      return {
        run: (p) => {
          for (const _ of rows(query, p));  // a cursor runs as it is read
        },
        get: (p) => {
          for (const r of rows(query, p)) return unblob(r);
          return undefined;
        },
        all: (p) => [...rows(query, p)].map(unblob),
        each: (p, f) => {
          for (const r of rows(query, p)) if (f(unblob(r)) === false) break;
        },
        finalize: () => {},
      };
    },
    transaction: (f) => storage.transactionSync(f),
    close: () => {},
  };
}

export class DurableObjectStore extends SqliteStore {
  private readonly sql: SqlStorageLike;
  private readonly tables: ReturnType<typeof tablesOf>;

  constructor(storage: DurableObjectStorageLike, options: DurableObjectStoreOptions = {}) {
    const chunkBytes = options.chunkBytes ?? 1 << 20;
    if (!(chunkBytes > 0 && chunkBytes <= DO_MAX_ROW_BYTES - 1024)) {
      throw new SemcacheError('INVALID_ARGUMENT', `chunkBytes must be in 1..${DO_MAX_ROW_BYTES - 1024}`);
    }
    const tables = tablesOf(options.tablePrefix);
    super(
      'durable-object',
      'the Durable Object storage',
      () => doSqlDb(storage),
      () => {
        for (const s of [`DROP INDEX IF EXISTS ${tables.seqIndex}`, `DROP TABLE IF EXISTS ${tables.entries}`, `DROP TABLE IF EXISTS ${tables.tombstones}`, `DROP TABLE IF EXISTS ${tables.chunks}`, `DROP TABLE IF EXISTS ${tables.meta}`]) {
          storage.sql.exec(s);
        }
      },
      { tablePrefix: options.tablePrefix, chunkBytes, pageRows: options.pageRows ?? 1000 },
    );
    this.sql = storage.sql;
    this.tables = tables;
  }

  /** The info the store was opened with before, without opening a cache (no embedder probe needed). */
  peekInfo(): StoreInfo | undefined {
    const v = this.peek('info');
    return typeof v === 'string' ? (JSON.parse(v) as StoreInfo) : undefined;
  }

  /** The rows' batch sequence number and the saved snapshot's (null when there is none). */
  seqs(): { seq: number; snapshotSeq: number | null } {
    const snap = this.peek('snapshot_seq');
    return { seq: Number(this.peek('seq') ?? 0), snapshotSeq: snap === undefined || snap === null ? null : Number(snap) };
  }

  override async apply(batch: StoreBatch): Promise<number> {
    // Checked before the transaction: a refused row leaves the batch unapplied, not half-applied.
    for (const r of batch.put ?? []) checkRowSize(r);
    return super.apply(batch);
  }

  /** A meta value read without opening (and without creating anything). */
  private peek(key: string): unknown {
    try {
      const rows = this.sql.exec(`SELECT value FROM ${this.tables.meta} WHERE key = ?`, key).toArray();
      return rows.length ? rows[0]!.value : undefined;
    } catch (e) {
      if (/no such table/i.test(String((e as Error)?.message))) return undefined;
      throw new SemcacheError('STORE_FAILED', `Durable Object SQL failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }
}

function checkRowSize(r: NonNullable<StoreBatch['put']>[number]) {
  const metadata = r.metadata === undefined ? null : JSON.stringify(r.metadata);
  const size = 2 * (r.prompt.length + r.answer.length + r.scope.length) + (metadata?.length ?? 0) * 2 + r.vector.byteLength;
  // UTF-16 length x2 bounds the UTF-8 size from above only for BMP text; measure when close.
  if (size > DO_MAX_ROW_BYTES / 2) {
    const enc = new TextEncoder();
    const exact = enc.encode(r.prompt).length + enc.encode(r.answer).length + enc.encode(r.scope).length + (metadata ? enc.encode(metadata).length : 0) + r.vector.byteLength;
    if (exact > DO_MAX_ROW_BYTES - 4096) {
      throw new SemcacheError('STORE_FAILED', `entry ${r.id} is ${exact} bytes (prompt + answer + metadata + vector), over Durable Object SQL's 2 MB row limit`);
    }
  }
}
