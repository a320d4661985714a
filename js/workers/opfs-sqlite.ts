// sqlite-wasm's oo1 database as the SQLite stores' SqlDb (js/stores/sqlite-schema.ts), for the
// OPFS worker: statements stepped in place, and BLOBs read as views into SQLite's heap (no copy
// per row) through the C-level calls when the module has them.
import type { SqlDb, SqlStatement } from '../stores/sqlite-schema.js';

export interface Sqlite3Stmt {
  bind(p: unknown[]): Sqlite3Stmt;
  step(): boolean;
  get(out: unknown[]): unknown[];
  get(column: number): unknown;
  reset(clearBindings?: boolean): Sqlite3Stmt;
  finalize(): void;
  columnCount: number;
  pointer: number;
}
/** The C-level calls used to read BLOBs in place (no copy per row). */
export interface Sqlite3Low {
  capi: {
    sqlite3_column_type(stmt: number, i: number): number;
    sqlite3_column_blob(stmt: number, i: number): number;
    sqlite3_column_bytes(stmt: number, i: number): number;
    SQLITE_BLOB: number;
  };
  wasm: { heap8u(): Uint8Array };
}
let low: Sqlite3Low | undefined;
export interface Sqlite3Db {
  exec(sql: string): void;
  prepare(sql: string): Sqlite3Stmt;
  close(): void;
}

/** The module's C-level calls, once it is loaded: BLOBs are then read in place. */
export function useLowLevel(module: Sqlite3Low): void {
  low = module;
}

/** A row whose BLOBs are views into SQLite's heap: valid until the next step (each()'s contract). */
function rowInPlace(s: Sqlite3Stmt): unknown[] {
  if (!low) return s.get([]);
  const { capi, wasm } = low;
  const row: unknown[] = [];
  for (let i = 0; i < s.columnCount; i++) {
    if (capi.sqlite3_column_type(s.pointer, i) !== capi.SQLITE_BLOB) row.push(s.get(i));
    else {
      const ptr = capi.sqlite3_column_blob(s.pointer, i);
      row.push(wasm.heap8u().subarray(ptr, ptr + capi.sqlite3_column_bytes(s.pointer, i)));
    }
  }
  return row;
}

export function adapt(db: Sqlite3Db): SqlDb {
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql): SqlStatement {
      const s = db.prepare(sql);
      const rows = (p: unknown[], limit: number) => {
        const out: unknown[][] = [];
        try {
          if (p.length) s.bind(p);
          while (out.length < limit && s.step()) out.push(s.get([]));
        } finally {
          s.reset(true);
        }
        return out;
      };
      return {
        run: (p) => void rows(p, 0x7fffffff),
        get: (p) => rows(p, 1)[0],
        all: (p) => rows(p, 0x7fffffff),
        each: (p, f) => {
          try {
            if (p.length) s.bind(p);
            while (s.step()) if (f(rowInPlace(s)) === false) break;
          } finally {
            s.reset(true);
          }
        },
        finalize: () => s.finalize(),
      };
    },
    close: () => db.close(),
  };
}
