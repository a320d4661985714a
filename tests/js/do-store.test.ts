// DurableObjectStore against real Durable Object SQLite storage in workerd (Miniflare).
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
    expect([r.seq1, r.seq2]).toEqual([1, 2]);
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
    expect(r.reopen).toEqual({ info: { dimensions: 3, space: 'f32', embedder: 'test' }, seq: 2, created: false });
    expect(r.afterDestroy).toMatchObject({ seq: 0, created: true });
    expect(r.rowsAfterDestroy).toBe(0);
    expect(r.closed).toBe('CLOSED');
  } finally {
    await mf.dispose();
  }
});
