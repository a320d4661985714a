// The SQLite file store in Node: reopening (snapshot, snapshot + replay, rows only), corrupt
// files and snapshots, a full disk, and SIGKILL in the middle of 10,000 puts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSqliteStore, SemanticCache, SemcacheError } from 'semcache';
import { PAGE_SIZE } from '../../dist/stores/sqlite-schema.js';
import { root, toyEmbedder } from './helpers.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as new (f: string, o?: object) => {
  prepare(sql: string): { all(...a: unknown[]): unknown[]; run(...a: unknown[]): unknown; get(...a: unknown[]): unknown };
  pragma(s: string, o?: object): unknown;
  close(): void;
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-persist-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => path.join(dir, `cache-${++n}.sqlite3`);
const embedder = toyEmbedder(32);
const open = (file: string, extra: object = {}) => SemanticCache.open({ embedder, storage: 'file', path: file, threshold: 0.8, ...extra });

// Schema version 1 as it shipped (before feedback offsets and snapshot generations).
const V1_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE entries (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, prompt TEXT NOT NULL, prompt_hash TEXT NOT NULL,
  answer TEXT NOT NULL, answer_bytes INTEGER NOT NULL, vector BLOB NOT NULL, created REAL NOT NULL,
  last_access REAL NOT NULL, expires_at REAL NOT NULL, hits INTEGER NOT NULL, metadata TEXT, seq INTEGER NOT NULL);
CREATE INDEX entries_seq ON entries (seq);
CREATE TABLE tombstones (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE snapshot_chunks (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
`;

/** Byte equality without Vitest's element-by-element diffing (slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string);
  } finally {
    db.close();
  }
}

/** Counts the store's full row scans (what opening without a current snapshot does). */
function countScans(store: NodeSqliteStore): { readonly n: number } {
  const counter = { n: 0 };
  const scan = store.scan.bind(store);
  store.scan = (f) => (counter.n++, scan(f));
  return counter;
}

describe('file store', () => {
  it('reopens from the snapshot, from snapshot + changes, and from rows', async () => {
    const file = dbPath();
    const c1 = await open(file);
    for (let i = 0; i < 300; i++) await c1.put(`stored question ${i} on topic ${i}`, `answer ${i}`, { metadata: { i } });
    await c1.close();

    // 1. Snapshot current: no row scan.
    const s2 = new NodeSqliteStore(file);
    const scans = countScans(s2);
    const c2 = await SemanticCache.open({ embedder, store: s2, threshold: 0.8 });
    expect(scans.n).toBe(0);
    expect(await c2.stats()).toMatchObject({ entries: 300, store: 'file' });
    const hit = await c2.get('stored question 42 on topic 42?');
    expect(hit).toMatchObject({ hit: true, answer: 'answer 42', metadata: { i: 42 } });
    // Changes after the snapshot, then "crash" (no close): the snapshot lags the rows.
    await c2.put('a question written after the snapshot', 'late');
    const del = (await c2.get('stored question 7 on topic 7'));
    expect(del.hit && (await c2.delete(del.id))).toBe(true);
    await c2.put('stored question 9 on topic 9', 'replaced answer 9');

    const s3 = new NodeSqliteStore(file);
    const scans3 = countScans(s3);
    const c3 = await SemanticCache.open({ embedder, store: s3, threshold: 0.8 });
    expect(scans3.n).toBe(0);  // snapshot + replayed changes
    expect((await c3.stats()).entries).toBe(300);
    expect(await c3.get('a question written after the snapshot')).toMatchObject({ hit: true, answer: 'late' });
    expect((await c3.get('stored question 7 on topic 7')).hit && (await c3.get('stored question 7 on topic 7'))).not.toMatchObject({ answer: 'answer 7' });
    expect(await c3.get('stored question 9 on topic 9')).toMatchObject({ hit: true, exact: true, answer: 'replaced answer 9' });
    expect((await c3.entries({ limit: 1000 })).map((e) => e.prompt)).not.toContain('stored question 7 on topic 7');
    await c3.close();

    // 2. No snapshot at all: rebuilt from rows, same content.
    const db = new Database(file);
    db.prepare('DELETE FROM snapshot_chunks').run();
    db.close();
    const c4 = await open(file);
    expect((await c4.stats()).entries).toBe(300);
    expect(await c4.get('stored question 123 on topic 123')).toMatchObject({ hit: true, answer: 'answer 123' });
    await c4.close();
    expect(integrity(file)).toBe('ok');
  });

  it('feedback offsets persist: close and reopen, a crash after a snapshot (replayed), rows only', async () => {
    const file = dbPath();
    const A = 'how do I reset my router password', B = 'what is the boiling point of water at sea level';
    const para = (q: string) => `${q} please`;
    // The HNSW graph from the first entry: replaying B removes and re-adds it there.
    const opts = { snapshotEvery: 0, snapshotIntervalMs: 0, index: { flatLimit: 0 } };
    const c1 = await open(file, opts);
    const a = await c1.put(A, 'Hold reset for 10 s.');
    await c1.put(B, '100 degrees Celsius.');
    for (let i = 0; i < 20; i++) await c1.put(`filler question number ${i} about gardens`, `f${i}`);
    expect((await c1.get(para(A))).hit).toBe(true);
    const { thresholdOffset } = await c1.feedback(a.id, { correct: false });
    expect((await c1.get(para(A))).hit).toBe(false);
    await c1.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);  // a new file gets the large pages
    expect((db.prepare('SELECT threshold_offset FROM entries WHERE id = ?').get(a.id) as { threshold_offset: number }).threshold_offset).toBeCloseTo(thresholdOffset, 6);
    db.close();

    // From the snapshot close() wrote.
    const c2 = await open(file, opts);
    expect((await c2.get(para(A))).hit).toBe(false);
    const hitB = await c2.get(para(B));
    expect(hitB.hit).toBe(true);
    // A wrong hit on B after that snapshot, then a crash (no close, no flush).
    await c2.feedback(hitB.id!, { correct: false });

    const s3 = new NodeSqliteStore(file);
    const scans = countScans(s3);
    const c3 = await SemanticCache.open({ embedder, store: s3, threshold: 0.8, ...opts });
    expect(scans.n).toBe(0);  // the snapshot plus the rows changed after it
    expect([(await c3.get(para(A))).hit, (await c3.get(para(B))).hit, (await c3.get(B)).hit]).toEqual([false, false, true]);
    await c3.close();

    // Rows only: the snapshot is gone, the offsets come from the rows.
    const w = new Database(file);
    w.prepare('DELETE FROM snapshot_chunks').run();
    w.close();
    const c4 = await open(file, opts);
    expect([(await c4.get(para(A))).hit, (await c4.get(para(B))).hit]).toEqual([false, false]);
    // A right hit lowers the offset from what was stored, not from zero.
    expect((await c4.feedback(a.id, { correct: true })).thresholdOffset).toBeCloseTo(thresholdOffset - 0.01, 5);
    await c4.close();
  });

  // flatLimit 0: the HNSW graph from the first entry (a replayed row is removed and re-added there).
  it.each([['flat index', 1024], ['graph index', 0]])('touches made after the last snapshot are replayed on reopen (%s)', async (_, flatLimit) => {
    const file = dbPath();
    const opts = { snapshotEvery: 0, snapshotIntervalMs: 0, index: { flatLimit: flatLimit as number } };
    const c1 = await open(file, opts);
    const { id } = await c1.put('a question that gets asked again', 'yes');
    await c1.put('another stored question', 'no');
    await c1.close();  // snapshot: hits 0
    const c2 = await open(file, opts);
    for (let i = 0; i < 3; i++) expect((await c2.get('a question that gets asked again')).hit).toBe(true);
    await c2.put('a later write carries the access bookkeeping', 'ok');
    // crash: no close
    const c3 = await open(file, opts);
    const e = (await c3.entries({ limit: 10 })).find((x) => x.id === id)!;
    expect(e.hits).toBe(3);
    await c3.close();
  });

  it('a checkpoint does not hold writers back: puts commit between its slices', async () => {
    const file = dbPath();
    const store = new NodeSqliteStore(file, { checkpointSliceMs: 0 });
    await store.open({ dimensions: 4, space: 'f32', embedder: 'x' });
    const row = (id: number) => ({ id, scope: '{}', prompt: `p${id}`, promptHash: `h${id}`, answer: 'a', answerBytes: 1, vector: new Float32Array([1, 0, 0, 0]), created: 1, lastAccess: 1, expiresAt: 0, hits: 0 });
    await store.apply({ put: [row(1)] });
    const big = new Uint8Array(12 << 20).map((_, i) => i * 7);
    await store.saveSnapshot({ seq: 1, bytes: big });
    const order: string[] = [];
    const next = new Uint8Array(12 << 20).map((_, i) => i * 3);
    const snap = store.saveSnapshot({ seq: 1, bytes: next }).then(() => order.push('snapshot'));
    await new Promise((r) => setImmediate(r));
    // While the second checkpoint is half written, the first is still the one that loads.
    expect(same((await store.loadSnapshot())!.bytes, big)).toBe(true);
    await store.apply({ put: [row(2)] }).then(() => order.push('put'));
    await snap;
    expect(order).toEqual(['put', 'snapshot']);
    const loaded = (await store.loadSnapshot())!;
    expect(loaded.seq).toBe(1);
    expect(same(loaded.bytes, next)).toBe(true);
    await store.close();
    // The old generation is gone; a torn generation (a crash mid-checkpoint) is never loaded.
    const db = new Database(file);
    expect((db.prepare('SELECT count(DISTINCT gen) AS g FROM snapshot_chunks').get() as { g: number }).g).toBe(1);
    db.prepare('INSERT INTO snapshot_chunks (gen, n, bytes) VALUES (99, 0, ?)').run(Buffer.alloc(100, 1));
    db.close();
    const s2 = new NodeSqliteStore(file);
    await s2.open({ dimensions: 4, space: 'f32', embedder: 'x' });
    expect(same((await s2.loadSnapshot())!.bytes, next)).toBe(true);
    await s2.saveSnapshot({ seq: 2, bytes: new Uint8Array(10) });
    await s2.close();
    const db2 = new Database(file, { readonly: true });
    expect(db2.prepare('SELECT DISTINCT gen FROM snapshot_chunks').all()).toHaveLength(1);
    db2.close();
  });

  it('opens a schema version 1 database: migrated in place, rows kept, offsets then persisted', async () => {
    const file = dbPath();
    const db = new Database(file);
    db.exec(V1_SCHEMA);
    const c0 = await (async () => {
      db.prepare("INSERT INTO meta (key, value) VALUES ('version', 1), ('info', ?), ('seq', 3), ('clear_seq', 0), ('snapshot_seq', 3), ('snapshot_bytes', 4)").run(JSON.stringify({ dimensions: 32, space: 'f32', embedder: 'function' }));
      db.prepare('INSERT INTO snapshot_chunks (n, bytes) VALUES (0, ?)').run(Buffer.from([1, 2, 3, 4]));
      const vec = (await embedder(['how do I reset my router password']))[0]!;
      db.prepare('INSERT INTO entries VALUES (1, ?, ?, ?, ?, 20, ?, 1, 1, 0, 0, NULL, 3)').run(
        '{}', 'how do I reset my router password', 'x', 'Hold reset for 10 s.', Buffer.from(new Float32Array(vec).buffer));
      db.close();
    })();
    void c0;
    const c = await open(file, { snapshotEvery: 0, snapshotIntervalMs: 0 });
    expect((await c.stats()).entries).toBe(1);
    const hit = await c.get('how do I reset my router password please');
    expect(hit).toMatchObject({ hit: true, answer: 'Hold reset for 10 s.' });
    await c.feedback(hit.id!, { correct: false });
    await c.close();
    const c2 = await open(file);
    expect((await c2.get('how do I reset my router password please')).hit).toBe(false);
    await c2.close();
    const r = new Database(file, { readonly: true });
    expect((r.prepare("SELECT value FROM meta WHERE key = 'version'").get() as { value: number }).value).toBe(2);
    expect(r.pragma('page_size', { simple: true })).toBe(4096);  // an existing file keeps its page size
    r.close();
    expect(integrity(file)).toBe('ok');
    // A version from the future is refused with a clear error.
    const w = new Database(file);
    w.prepare("UPDATE meta SET value = 3 WHERE key = 'version'").run();
    w.close();
    await expect(open(file)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('closing a cache that did not change since its snapshot writes nothing; a few changes are left to replay', async () => {
    const file = dbPath();
    const c1 = await open(file);
    for (let i = 0; i < 20; i++) await c1.put(`unchanged question ${i}`, `a${i}`);
    await c1.close();
    const store = new NodeSqliteStore(file);
    let saves = 0, applies = 0;
    const save = store.saveSnapshot.bind(store), apply = store.apply.bind(store);
    store.saveSnapshot = (x) => (saves++, save(x));
    store.apply = (b) => (applies++, apply(b));
    const c2 = await SemanticCache.open({ embedder, store, threshold: 0.8 });
    const seq = (await store.loadSnapshot())!.seq;
    await c2.close();
    expect([saves, applies]).toEqual([0, 0]);
    const again = new NodeSqliteStore(file);
    await again.open({ dimensions: 32, space: 'f32', embedder: 'function' });
    expect((await again.loadSnapshot())!.seq).toBe(seq);
    await again.close();
    // A lookup hit (access bookkeeping) is a change: close writes it, but with so few rows
    // changed it leaves the snapshot alone; the next open replays the touched row.
    const c3 = await open(file);
    const id = (await c3.get('unchanged question 3')).id;
    await c3.close();
    const s4 = new NodeSqliteStore(file);
    const scans = countScans(s4);
    const c4 = await SemanticCache.open({ embedder, store: s4, threshold: 0.8 });
    expect((await s4.loadSnapshot())!.seq).toBe(seq);
    expect(scans.n).toBe(0);
    expect((await c4.entries({ limit: 100 })).find((e) => e.id === id)?.hits).toBe(1);
    // Many changed rows: close() writes a fresh snapshot.
    for (let i = 0; i < 80; i++) await c4.put(`more questions ${i}`, 'm');
    await c4.close();
    const last = new NodeSqliteStore(file);
    const opened = await last.open({ dimensions: 32, space: 'f32', embedder: 'function' });
    expect((await last.loadSnapshot())!.seq).toBe(opened.seq);
    await last.close();
  });

  it('checkpoints the snapshot in the background: after N rows, and T ms after a write', async () => {
    const file = dbPath();
    const store = new NodeSqliteStore(file);
    const c = await SemanticCache.open({ embedder, store, snapshotEvery: 10, snapshotIntervalMs: 0 });
    for (let i = 0; i < 9; i++) await c.put(`checkpoint question ${i}`, 'a');
    expect(await store.loadSnapshot()).toBeUndefined();
    await c.put('the tenth row', 'a');
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.loadSnapshot())?.seq).toBe(10);
    await c.close();
    const store2 = new NodeSqliteStore(file);
    const c2 = await SemanticCache.open({ embedder, store: store2, snapshotEvery: 0, snapshotIntervalMs: 100 });
    await c2.put('one write starts the timer', 'b');
    const before = (await store2.loadSnapshot())?.seq;
    await new Promise((r) => setTimeout(r, 400));
    const after = (await store2.loadSnapshot())?.seq;
    expect(before).toBeLessThan(after!);
    expect(after).toBe(11);  // 10 puts (close() found the snapshot current: no write), this put
    await c2.close();
  });

  it('rebuilds from rows when the snapshot is corrupt', async () => {
    const file = dbPath();
    const c = await open(file);
    for (let i = 0; i < 50; i++) await c.put(`snapshot corruption question ${i}`, `a${i}`);
    await c.close();
    const db = new Database(file);
    const first = db.prepare('SELECT bytes FROM snapshot_chunks WHERE n = 0').get() as { bytes: Buffer };
    const bad = Buffer.from(first.bytes);
    for (let i = 64; i < bad.length; i += 97) bad[i] ^= 0x5a;
    db.prepare('UPDATE snapshot_chunks SET bytes = ? WHERE n = 0').run(bad);
    db.close();
    const c2 = await open(file);
    expect((await c2.stats()).entries).toBe(50);
    expect(await c2.get('snapshot corruption question 33')).toMatchObject({ hit: true, answer: 'a33' });
    await c2.close();
  });

  it('a snapshot in an older format is rebuilt from the rows, then saved in the current one', async () => {
    // Written by the build of b906b86: cache snapshot v2, whose HNSW graph (flatLimit 8, 40
    // entries) records neither the hnswlib version nor the label width. The core refuses it
    // (UNSUPPORTED_VERSION); the open must rebuild from rows, never surface that to the user.
    const file = dbPath();
    fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(path.join(root, 'tests/js/fixtures/snapshot-v2.sqlite3.gz'))));
    const old = new Database(file, { readonly: true });
    const chunk = (old.prepare('SELECT bytes FROM snapshot_chunks').get() as { bytes: Buffer }).bytes;
    old.close();
    expect([chunk.toString('latin1', 0, 4), chunk.readUInt32LE(4)]).toEqual(['SMCC', 2]);
    const store = new NodeSqliteStore(file);
    const scans = countScans(store);
    const c = await SemanticCache.open({ embedder, store, threshold: 0.8, index: { flatLimit: 8 } });
    expect(scans.n).toBe(1);
    expect((await c.stats()).entries).toBe(40);
    expect(await c.get('how do I reset router model 17 to factory settings please')).toMatchObject({ hit: true, answer: 'answer 17' });
    await c.close();
    const again = new NodeSqliteStore(file);
    const rescans = countScans(again);
    const c2 = await SemanticCache.open({ embedder, store: again, threshold: 0.8, index: { flatLimit: 8 } });
    expect(rescans.n).toBe(0);  // close() wrote a snapshot this build reads
    expect((await c2.stats()).entries).toBe(40);
    expect(await c2.get('how do I reset router model 5 to factory settings please')).toMatchObject({ hit: true, answer: 'answer 5' });
    await c2.close();
  });

  it('a corrupt database file: a clear error naming it, or a fresh start on request', async () => {
    const file = dbPath();
    const c = await open(file);
    for (let i = 0; i < 200; i++) await c.put(`page filler question ${i}`, 'y'.repeat(300));
    await c.close();
    // Without a snapshot the open reads every row; overwrite pages in the middle (header intact):
    // SQLite meets a malformed b-tree.
    const db = new Database(file);
    db.exec("DELETE FROM snapshot_chunks; DELETE FROM meta WHERE key LIKE 'snapshot%'; PRAGMA wal_checkpoint(TRUNCATE);");
    db.close();
    const fd = fs.openSync(file, 'r+');
    const size = fs.fstatSync(fd).size;
    const page = PAGE_SIZE;
    expect(size / page).toBeGreaterThanOrEqual(3);
    // Every page after the first (the header and schema stay readable): the b-trees are garbage.
    fs.writeSync(fd, Buffer.alloc(size - page, 0xa5), 0, size - page, page);
    fs.closeSync(fd);
    const err = await open(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SemcacheError);
    expect((err as SemcacheError).code).toBe('CORRUPT_DATABASE');
    expect((err as SemcacheError).message).toContain(file);
    const reset = await open(file, { onCorrupt: 'reset' });
    expect((await reset.stats()).entries).toBe(0);
    await reset.put('fresh start', 'yes');
    await reset.close();
    expect(integrity(file)).toBe('ok');
    // Not a database at all.
    const junk = dbPath();
    fs.writeFileSync(junk, Buffer.alloc(10000, 7));
    await expect(open(junk)).rejects.toMatchObject({ code: 'CORRUPT_DATABASE' });
    const fresh = await open(junk, { onCorrupt: 'reset' });
    expect((await fresh.stats()).entries).toBe(0);
    await fresh.put('after the reset', 'works');
    await fresh.close();
    expect(integrity(junk)).toBe('ok');
  });

  it('storage full: evicts and retries, then fails clearly', async () => {
    const file = dbPath();
    // 50 pages of 32 KiB; rows of ~4 KB so that evicting a tenth frees whole pages.
    const store = new NodeSqliteStore(file, { maxBytes: 1600 * 1024 });
    const c = await SemanticCache.open({ embedder, store, maxEntries: 0, snapshotEvery: 0, snapshotIntervalMs: 0 });
    for (let i = 0; i < 600; i++) await c.put(`quota question ${i}`, `${i} ${'q'.repeat(4000)}`);
    const s = await c.stats();
    expect(s.entries).toBeLessThan(600);
    expect(s.entries).toBeGreaterThan(50);
    expect(await c.get('quota question 599')).toMatchObject({ hit: true });
    const err = await c.put('an answer bigger than the whole quota', 'z'.repeat(2000 * 1024)).catch((e: unknown) => e);
    expect((err as SemcacheError).code).toBe('QUOTA_EXCEEDED');
    expect((err as SemcacheError).message).toMatch(/full/);
    expect(await c.get('quota question 599')).toMatchObject({ hit: true });
    await c.close();
    expect(integrity(file)).toBe('ok');
  });

  it('SIGKILL during 10,000 puts: the file is intact and every acknowledged put is there', async () => {
    const file = dbPath();
    const child = spawn(process.execPath, [path.join(root, 'tests/js/fixtures/persist-child.mjs'), file, '10000'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: number[] = [];
    let buf = '';
    let killedAt = -1;
    const killAfter = 2500 + Math.floor(Math.random() * 4000);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
      if (killedAt < 0 && acked.length >= killAfter) {
        killedAt = acked.length;
        child.kill('SIGKILL');
      }
    });
    expect(await exited).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(killAfter);
    expect(acked.length).toBeLessThan(10000);
    expect(integrity(file)).toBe('ok');
    const db = new Database(file, { readonly: true });
    const prompts = new Set((db.prepare('SELECT prompt FROM entries').all() as { prompt: string }[]).map((r) => r.prompt));
    db.close();
    const missing = acked.filter((i) => !prompts.has(`crash test question ${i}`));
    expect(missing).toEqual([]);
    // And the cache opens on it and answers them.
    const c = await open(file, { maxEntries: 0 });
    expect((await c.stats()).entries).toBe(prompts.size);
    for (const i of acked.filter((_, k) => k % 97 === 0)) {
      expect(await c.get(`crash test question ${i}`)).toMatchObject({ hit: true, exact: true, answer: `answer ${i} ${'x'.repeat(200)}` });
    }
    await c.close();
  });
});
