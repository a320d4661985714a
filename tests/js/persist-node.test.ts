// The SQLite file store in Node: reopening (snapshot, snapshot + replay, rows only), corrupt
// files and snapshots, a full disk, and SIGKILL in the middle of 10,000 puts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSqliteStore, SemanticCache, SemcacheError } from 'semcache';
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

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string);
  } finally {
    db.close();
  }
}

describe('file store', () => {
  it('reopens from the snapshot, from snapshot + changes, and from rows', async () => {
    const file = dbPath();
    const c1 = await open(file);
    for (let i = 0; i < 300; i++) await c1.put(`stored question ${i} on topic ${i}`, `answer ${i}`, { metadata: { i } });
    await c1.close();

    // 1. Snapshot current: no row scan.
    const s2 = new NodeSqliteStore(file);
    let scans = 0;
    const scan = s2.scan.bind(s2);
    s2.scan = (f) => (scans++, scan(f));
    const c2 = await SemanticCache.open({ embedder, store: s2, threshold: 0.8 });
    expect(scans).toBe(0);
    expect(c2.stats()).toMatchObject({ entries: 300, store: 'file' });
    const hit = await c2.get('stored question 42 on topic 42?');
    expect(hit).toMatchObject({ hit: true, answer: 'answer 42', metadata: { i: 42 } });
    // Changes after the snapshot, then "crash" (no close): the snapshot lags the rows.
    await c2.put('a question written after the snapshot', 'late');
    const del = (await c2.get('stored question 7 on topic 7'));
    expect(del.hit && (await c2.delete(del.id))).toBe(true);
    await c2.put('stored question 9 on topic 9', 'replaced answer 9');

    const s3 = new NodeSqliteStore(file);
    let scans3 = 0;
    const scan3 = s3.scan.bind(s3);
    s3.scan = (f) => (scans3++, scan3(f));
    const c3 = await SemanticCache.open({ embedder, store: s3, threshold: 0.8 });
    expect(scans3).toBe(0);  // snapshot + replayed changes
    expect(c3.stats().entries).toBe(300);
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
    expect(c4.stats().entries).toBe(300);
    expect(await c4.get('stored question 123 on topic 123')).toMatchObject({ hit: true, answer: 'answer 123' });
    await c4.close();
    expect(integrity(file)).toBe('ok');
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
    expect(after).toBe(12);  // 10 puts, close()'s flush, this put
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
    expect(c2.stats().entries).toBe(50);
    expect(await c2.get('snapshot corruption question 33')).toMatchObject({ hit: true, answer: 'a33' });
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
    fs.writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
    fs.closeSync(fd);
    const err = await open(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SemcacheError);
    expect((err as SemcacheError).code).toBe('CORRUPT_DATABASE');
    expect((err as SemcacheError).message).toContain(file);
    const reset = await open(file, { onCorrupt: 'reset' });
    expect(reset.stats().entries).toBe(0);
    await reset.put('fresh start', 'yes');
    await reset.close();
    expect(integrity(file)).toBe('ok');
    // Not a database at all.
    const junk = dbPath();
    fs.writeFileSync(junk, Buffer.alloc(10000, 7));
    await expect(open(junk)).rejects.toMatchObject({ code: 'CORRUPT_DATABASE' });
    const fresh = await open(junk, { onCorrupt: 'reset' });
    expect(fresh.stats().entries).toBe(0);
    await fresh.put('after the reset', 'works');
    await fresh.close();
    expect(integrity(junk)).toBe('ok');
  });

  it('storage full: evicts and retries, then fails clearly', async () => {
    const file = dbPath();
    const store = new NodeSqliteStore(file, { maxBytes: 400 * 1024 });
    const c = await SemanticCache.open({ embedder, store, maxEntries: 0, snapshotEvery: 0, snapshotIntervalMs: 0 });
    for (let i = 0; i < 600; i++) await c.put(`quota question ${i}`, `${i} ${'q'.repeat(1000)}`);
    const s = c.stats();
    expect(s.entries).toBeLessThan(600);
    expect(s.entries).toBeGreaterThan(50);
    expect(await c.get('quota question 599')).toMatchObject({ hit: true });
    const err = await c.put('an answer bigger than the whole quota', 'z'.repeat(600 * 1024)).catch((e: unknown) => e);
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
    expect(c.stats().entries).toBe(prompts.size);
    for (const i of acked.filter((_, k) => k % 97 === 0)) {
      expect(await c.get(`crash test question ${i}`)).toMatchObject({ hit: true, exact: true, answer: `answer ${i} ${'x'.repeat(200)}` });
    }
    await c.close();
  });
});
