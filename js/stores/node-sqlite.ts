// The Node file store: the shared SQLite schema and store (sqlite-schema.ts, sqlite-store.ts)
// in one file through better-sqlite3.
//
// Why better-sqlite3: it is SQLite's own C amalgamation with real fsync (WAL + synchronous=FULL
// makes every acknowledged transaction survive a SIGKILL or power loss), synchronous (so the
// same store code drives it and sqlite-wasm) and fast (thousands of transactions/s). Node 20 has
// no node:sqlite, and the wasm builds' Node file VFSes either keep the database in memory
// (@sqlite.org/sqlite-wasm's Node build) or are not built for crash safety. Its install script
// would try a prebuilt download outside the npm registry, so package.json denies it (allowScripts)
// and tools/setup.sh compiles it with node-gyp against the local Node headers instead. For the
// package's users it is an optional peer dependency: only `storage: 'file'` needs it.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SemcacheError } from '../errors.js';
import { PAGE_SIZE, type SqlDb, type SqlStatement } from './sqlite-schema.js';
import { SqliteStore } from './sqlite-store.js';

interface BetterStatement {
  reader: boolean;
  raw(on: boolean): BetterStatement;
  run(...p: unknown[]): unknown;
  get(...p: unknown[]): unknown[] | undefined;
  all(...p: unknown[]): unknown[][];
  iterate(...p: unknown[]): IterableIterator<unknown[]>;
}
interface BetterDb {
  exec(sql: string): void;
  pragma(s: string, o?: { simple: boolean }): unknown;
  prepare(sql: string): BetterStatement;
  close(): void;
}
type BetterCtor = new (file: string, opts?: { timeout?: number }) => BetterDb;

let ctor: BetterCtor | undefined;
function better(): BetterCtor {
  if (ctor) return ctor;
  try {
    ctor = createRequire(import.meta.url)('better-sqlite3') as BetterCtor;
  } catch (e) {
    throw new SemcacheError(
      'STORE_FAILED',
      `storage: 'file' needs the better-sqlite3 package built for this Node: \`npm install better-sqlite3\` and allow its install script (docs/install.md; in this repository tools/setup.sh builds it): ${(e as Error).message}`,
      { cause: e },
    );
  }
  return ctor;
}

function blob(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function adapt(db: BetterDb): SqlDb {
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql): SqlStatement {
      const s = db.prepare(sql);
      if (s.reader) s.raw(true);
      return {
        run: (p) => void s.run(...p.map(blob)),
        get: (p) => s.get(...p.map(blob)),
        all: (p) => s.all(...p.map(blob)),
        each: (p, f) => {
          for (const row of s.iterate(...p.map(blob))) if (f(row) === false) break;  // break closes the iterator
        },
        finalize: () => {},
      };
    },
    close: () => db.close(),
  };
}

export interface NodeSqliteStoreOptions {
  /** A corrupt file: 'error' (default) throws CORRUPT_DATABASE naming the path; 'reset' deletes it and starts fresh. */
  onCorrupt?: 'error' | 'reset';
  /** Largest database size in bytes (SQLite max_page_count); writes beyond it fail with QUOTA_EXCEEDED. */
  maxBytes?: number;
  /** A snapshot checkpoint commits in transactions of about this many ms, letting writes in between. Default 20. */
  checkpointSliceMs?: number;
}

/** SQLite in one file. An awaited apply (so an awaited put) has been fsynced. */
export class NodeSqliteStore extends SqliteStore {
  constructor(readonly path: string, options: NodeSqliteStoreOptions = {}) {
    const file = path;
    super(
      'file',
      file,
      () => openFileDb(file, options.maxBytes),
      () => {
        for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(file + suffix, { force: true });
      },
      { onCorrupt: options.onCorrupt, checkpointSliceMs: options.checkpointSliceMs, chunkSync: 'NORMAL', checkpointBytes: 1 << 20 },
    );
  }
}

/** The store's database file opened (WAL, synchronous FULL), as a SqlDb; exported for tests. */
export function openFileDb(file: string, maxBytes?: number): SqlDb {
  fs.mkdirSync(pathDir(file), { recursive: true });
  const db = new (better())(file, { timeout: 5000 });
  try {
    // Before anything is written (a no-op on an existing file): see PAGE_SIZE.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    if (maxBytes) db.pragma(`max_page_count = ${Math.max(16, Math.floor(maxBytes / pageSize))}`);
  } catch (e) {
    db.close();
    throw e;
  }
  return adapt(db);
}

function pathDir(file: string) {
  return path.dirname(path.resolve(file));
}
