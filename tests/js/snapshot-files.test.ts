// Snapshots as files beside the database (SqliteStoreOptions.snapshotFiles, the OPFS store's way;
// tests/js/persist-browser.test.ts runs the OPFS files themselves): the database says which file
// is current, a torn or foreign file is no snapshot, chunks from before are read and then
// dropped, and clear(), abort() and destroy() leave no file behind. Here over the Node SQLite
// binding, with the files in memory so that a test can tear them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileDb } from '../../dist/stores/node-sqlite.js';
import type { SnapshotFileWriter, SnapshotFiles } from '../../dist/stores/sqlite-snapshot.js';
import { SqliteStore } from '../../dist/stores/sqlite-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-snapfiles-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const info = { dimensions: 4, space: 'f32' as const, embedder: 'test' };

class MemoryFiles implements SnapshotFiles {
  readonly files = new Map<number, Uint8Array>();
  synced = new Set<number>();
  async create(gen: number): Promise<SnapshotFileWriter> {
    this.files.set(gen, new Uint8Array(0));
    this.synced.delete(gen);
    return {
      write: (chunk) => {
        const old = this.files.get(gen)!;
        const next = new Uint8Array(old.length + chunk.length);
        next.set(old);
        next.set(chunk, old.length);
        this.files.set(gen, next);
      },
      finish: async () => void this.synced.add(gen),
      abort: async () => void this.files.delete(gen),
    };
  }
  async read(gen: number, size: number, onChunk: (c: Uint8Array) => void) {
    const f = this.files.get(gen);
    if (!f || f.length !== size) return false;
    for (let at = 0; at < f.length; at += 7) onChunk(f.subarray(at, at + 7));
    return true;
  }
  async keepOnly(keep: number | undefined) {
    for (const g of [...this.files.keys()]) if (g !== keep) this.files.delete(g);
  }
  maxGen() {
    return Math.max(0, ...this.files.keys());
  }
  bytes() {
    let n = 0;
    for (const f of this.files.values()) n += f.length;
    return n;
  }
}

function storeAt(name: string, files?: SnapshotFiles) {
  const file = path.join(dir, `${name}.sqlite3`);
  const wipe = () => ['', '-wal', '-shm'].forEach((s) => fs.rmSync(file + s, { force: true }));
  return { file, store: new SqliteStore('file', file, () => openFileDb(file), wipe, files ? { snapshotFiles: files } : {}) };
}
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
async function write(store: SqliteStore, b: Uint8Array, seq: number) {
  const sink = await store.beginSnapshot();
  for (let at = 0; at < b.length; at += 10) await sink.write(b.subarray(at, at + 10));
  await sink.commit(seq);
}
async function read(store: SqliteStore): Promise<{ seq: number; bytes: Uint8Array } | undefined> {
  const got: number[] = [];
  const seq = await store.loadSnapshotChunks(() => true, (c) => got.push(...c));
  return seq === undefined ? undefined : { seq, bytes: Uint8Array.from(got) };
}
const chunkRows = (file: string) => {
  const db = openFileDb(file);
  try {
    return Number(db.prepare('SELECT count(*) FROM snapshot_chunks').get([])![0]);
  } finally {
    db.close();
  }
};

describe('snapshot files', () => {
  it('a snapshot goes to a synced file, not to chunks, and loads back byte for byte', async () => {
    const files = new MemoryFiles();
    const { file, store } = storeAt('basic', files);
    await store.open(info);
    await store.apply({ put: [] });
    const a = bytes(95, 1);
    await write(store, a, 1);
    expect([...files.files.keys()]).toHaveLength(1);
    const [gen] = [...files.files.keys()];
    expect(files.synced.has(gen!)).toBe(true);
    expect(await read(store)).toEqual({ seq: 1, bytes: a });
    expect(store.databaseBytes()).toBeGreaterThanOrEqual(95 + 4096);
    // the next snapshot replaces it: one file, the new one
    const b = bytes(40, 2);
    await write(store, b, 1);
    expect([...files.files.keys()]).toEqual([gen! + 1]);
    expect(await read(store)).toEqual({ seq: 1, bytes: b });
    await store.close();
    expect(chunkRows(file)).toBe(0);
  });

  it('a torn, missing or aborted file is no snapshot, and the one before stays', async () => {
    const files = new MemoryFiles();
    const { store } = storeAt('torn', files);
    await store.open(info);
    const a = bytes(50, 3);
    await write(store, a, 0);
    // abort: the file goes, the current one stays
    const sink = await store.beginSnapshot();
    await sink.write(bytes(20, 4));
    await sink.abort();
    expect(files.files.size).toBe(1);
    expect(await read(store)).toEqual({ seq: 0, bytes: a });
    // torn: another length than the database recorded
    const [gen] = [...files.files.keys()];
    files.files.set(gen!, a.subarray(0, 49));
    expect(await read(store)).toBeUndefined();
    files.files.delete(gen!);
    expect(await read(store)).toBeUndefined();
    await store.close();
  });

  it('clear() makes the file no snapshot; a snapshot taken before a clear never becomes current', async () => {
    const files = new MemoryFiles();
    const { store } = storeAt('clear', files);
    await store.open(info);
    await store.apply({ put: [] });
    const sink = await store.beginSnapshot();
    await sink.write(bytes(30, 5));
    await store.apply({ clear: true });
    await sink.commit(1);  // taken at seq 1, the clear is seq 2
    expect(await read(store)).toBeUndefined();
    expect(files.files.size).toBe(0);
    await write(store, bytes(30, 6), 1);  // another from before the clear
    expect(await read(store)).toBeUndefined();
    await store.close();
  });

  it('chunks from before are read, then dropped by the first file; a store without files ignores a file', async () => {
    const plain = storeAt('mixed');
    await plain.store.open(info);
    const a = bytes(3000, 7);
    await write(plain.store, a, 0);
    await plain.store.close();
    expect(chunkRows(plain.file)).toBeGreaterThan(0);

    const files = new MemoryFiles();
    const withFiles = storeAt('mixed', files);
    await withFiles.store.open(info);
    expect(await read(withFiles.store)).toEqual({ seq: 0, bytes: a });
    await write(withFiles.store, bytes(64, 8), 0);
    await withFiles.store.close();
    expect(chunkRows(plain.file)).toBe(0);
    expect(files.files.size).toBe(1);

    const again = storeAt('mixed');
    await again.store.open(info);
    expect(await read(again.store)).toBeUndefined();  // its rows rebuild the index
    await again.store.close();
  });

  it('a file left by a writer that died is not written over, and goes with the next commit', async () => {
    const files = new MemoryFiles();
    const { store } = storeAt('orphan', files);
    await store.open(info);
    await write(store, bytes(10, 10), 0);
    const [gen] = [...files.files.keys()];
    files.files.set(gen! + 5, bytes(3, 11));  // as a worker killed mid-write leaves it
    await write(store, bytes(12, 12), 0);
    expect([...files.files.keys()]).toEqual([gen! + 6]);
    expect(await read(store)).toEqual({ seq: 0, bytes: bytes(12, 12) });
    await store.close();
  });

  it('destroy() removes the files with the database', async () => {
    const files = new MemoryFiles();
    const { file, store } = storeAt('destroy', files);
    await store.open(info);
    await write(store, bytes(10, 9), 0);
    expect(files.files.size).toBe(1);
    await store.destroy();
    expect(files.files.size).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });
});
