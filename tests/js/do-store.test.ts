// DurableObjectStore against real Durable Object SQLite storage in workerd (Miniflare).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { expect, it } from 'vitest';
import { root } from './helpers.js';

it('keeps the CacheStore contract over ctx.storage.sql', async () => {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(root, 'tests/js/fixtures/do-store-worker.mjs'),
    modulesRoot: root,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
    compatibilityDate: '2025-01-01',
    durableObjects: { STORE: { className: 'StoreTest', useSQLite: true } },
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const r = JSON.parse(text);
    expect(r.first).toEqual({ info: { dimensions: 3, space: 'f32', embedder: 'test' }, seq: 0, created: true });
    expect([r.seq1, r.seq2, r.seq3]).toEqual([1, 2, 3]);
    expect(r.changes0).toEqual({ rows: [1], deleted: [3] });  // the touched row, the deleted id
    expect(r.offset2).toBe(0.125);
    expect(r.changes3).toEqual([[2, 0.125]]);
    expect(r.row1).toEqual({
      id: 1, scope: '{"model":"m"}', prompt: 'prompt 1', promptHash: 'h1', answer: 'answer 1', answerBytes: 8,
      vector: [1, 0.5, -1], created: 1001, lastAccess: 5000, expiresAt: 0, hits: 7,
    });
    expect(r.row2meta).toEqual({ chunks: ['a', 'b'] });
    expect(r.missing).toBeNull();
    expect(r.pages).toEqual([[1], [2]]);
    expect(r.chunks).toEqual([{ chunk: 0, n: 1 << 20 }, { chunk: 1, n: 1 << 20 }, { chunk: 2, n: 2_500_000 - 2 * (1 << 20) }]);
    expect(r.snapshotSeq).toBe(2);
    expect(r.snapshotEqual).toBe(true);
    expect(r.tornSnapshot).toBeNull();
    expect(r.oversized).toMatch(/^STORE_FAILED: entry 5 is \d+ bytes .*2 MB row limit/);
    expect(r.row4).toBeNull();
    // A second open returns what the store was created with (the cache then decides to reset).
    expect(r.reopen).toEqual({ info: { dimensions: 3, space: 'f32', embedder: 'test' }, seq: 3, created: false });
    expect(r.legacy.opened).toEqual({ info: { dimensions: 3, space: 'f32', embedder: 'test' }, seq: 5, created: false });
    expect(r.legacy.row).toEqual({ id: 7, answer: 'old answer', hits: 3, vector: [0, 1, 0], thresholdOffset: 0 });
    expect(r.legacy.snapshot).toBeNull();  // the old snapshot is dropped: the rows rebuild the index
    expect(r.legacy.seq).toBe(6);
    expect(r.legacy.offset).toBeCloseTo(-0.01, 6);
    expect([r.legacy.version, r.legacy.schemaKey]).toEqual([2, 0]);
    expect(r.afterDestroy).toMatchObject({ seq: 0, created: true });
    expect(r.rowsAfterDestroy).toBe(0);
    expect(r.closed).toBe('CLOSED');
  } finally {
    await mf.dispose();
  }
});

it('feedback offsets survive a restart of the runtime: from rows, from the snapshot, and replayed after it', async () => {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-do-feedback-'));
  const start = () =>
    new Miniflare({
      modules: true,
      scriptPath: path.join(root, 'tests/js/fixtures/do-feedback-worker.mjs'),
      modulesRoot: root,
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      compatibilityDate: '2025-01-01',
      durableObjects: { FEEDBACK: { className: 'FeedbackTest', useSQLite: true } },
      durableObjectsPersist: persist,
    });
  const phase = async (mf: Miniflare, name: string) => {
    const res = await mf.dispatchFetch(`http://localhost/${name}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return JSON.parse(text);
  };
  try {
    const m1 = start();
    const w = await phase(m1, 'write').finally(() => m1.dispose());
    expect(w).toMatchObject({ before: true, after: false, snapshot: 0 });
    expect(w.thresholdOffset).toBeGreaterThanOrEqual(0.05);
    const m2 = start();
    const c = await phase(m2, 'check').finally(() => m2.dispose());
    expect(c).toEqual({ rows: false, rowsB: true, snapshot: false, replayA: false, replayB: false, exactB: true });
  } finally {
    fs.rmSync(persist, { recursive: true, force: true });
  }
});
