// The OPFS store's byte budget (js/workers/opfs-budget.ts) outside a browser: a fake
// navigator.storage whose quota the test sets, over a fake database and over a real SQLite file
// store holding a real cache (the same SqliteStore the OPFS worker extends).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSqliteStore, SemanticCache } from 'semcache';
import { INTERNAL } from '../../dist/internal.js';
import { StorageBudget, type BudgetHost } from '../../dist/workers/opfs-budget.js';
import { toyEmbedder } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-budget-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** navigator.storage with a quota the test moves, counting estimate() calls. */
function fakeStorage(quota: number, usage = 0) {
  const s = {
    quota,
    usage,
    persistedAnswer: true,
    estimates: 0,
    fail: false,
    async estimate() {
      s.estimates++;
      if (s.fail) throw new Error('estimate unavailable');
      return { quota: s.quota, usage: s.usage };
    },
    async persisted() {
      return s.persistedAnswer;
    },
  };
  return s;
}

/** A database of `entries` rows of `bytesPerEntry`, in 4 KiB pages; evicting frees pages. */
function fakeDb(entries: number, bytesPerEntry: number) {
  const PAGE = 4096;
  const db = {
    entries,
    free: 0,
    count: Math.ceil((entries * bytesPerEntry) / PAGE) + 2,
    evictCalls: [] as number[],
    flushes: 0,
    released: 0,
  };
  const host: BudgetHost = {
    pages: () => ({ pageSize: PAGE, count: db.count, free: db.free }),
    releaseFreePages: () => {
      db.released += db.free;
      db.count -= db.free;
      db.free = 0;
    },
    entries: () => db.entries,
    evict: async (n) => {
      db.evictCalls.push(n);
      const k = Math.min(n, db.entries);
      db.entries -= k;
      db.free += Math.floor((k * bytesPerEntry) / PAGE);
      return k;
    },
    flush: async () => {
      db.flushes++;
    },
  };
  return { db, host, used: () => (db.count - db.free) * PAGE };
}

describe('StorageBudget (fake navigator.storage, fake database)', () => {
  it('does nothing under the budget', async () => {
    const storage = fakeStorage(100 << 20);
    const { db, host } = fakeDb(1000, 4096);  // ~4 MB, budget 50 MB
    const b = new StorageBudget(0.5, host, storage);
    await b.afterWrite();
    expect(db.evictCalls).toEqual([]);
    expect(await b.info()).toMatchObject({ quota: 100 << 20, budget: 50 << 20, budgetEvictions: 0, persisted: true, databaseBytes: (1000 + 2) * 4096 });
  });

  it('past the budget evicts down to 90% of it in one go, then gives the pages back', async () => {
    const storage = fakeStorage(10 << 20, 9 << 20);
    const { db, host, used } = fakeDb(1000, 4096);  // ~4 MB, budget 0.25 x 10 MiB = 2.5 MiB
    const b = new StorageBudget(0.25, host, storage);
    await b.afterWrite();
    const budget = b.budget;
    expect(budget).toBe(Math.floor(0.25 * (10 << 20)));
    expect(used()).toBeLessThanOrEqual(budget);
    expect(used()).toBeGreaterThan(0.8 * budget);  // not far more than needed
    expect(db.evictCalls).toHaveLength(1);
    expect(db.flushes).toBe(1);
    expect(db.released).toBeGreaterThan(0);  // the file shrank, not only the rows
    const info = await b.info();
    expect(info).toMatchObject({ usage: 9 << 20, quota: 10 << 20, budget, budgetEvictions: 1000 - db.entries });
    expect(info.databaseBytes).toBe(db.count * 4096);
  });

  it('a quota that shrinks (free disk space) shrinks the cache once stats() re-reads it', async () => {
    const storage = fakeStorage(100 << 20);
    const { db, host, used } = fakeDb(2000, 4096);
    const b = new StorageBudget(0.5, host, storage);
    await b.afterWrite();
    expect(db.evictCalls).toEqual([]);
    storage.quota = 8 << 20;
    await b.afterWrite();  // the quota is re-read at most every few seconds on the write path
    expect(db.evictCalls).toEqual([]);
    await b.info();  // stats() always re-reads it
    await b.afterWrite();
    expect(used()).toBeLessThanOrEqual(4 << 20);
    expect(db.entries).toBeLessThan(2000);
  });

  it('writes that land during a check make it run once more, not once each', async () => {
    const storage = fakeStorage(100 << 20);
    const { host } = fakeDb(10, 4096);
    const b = new StorageBudget(0.5, host, storage);
    await Promise.all([b.afterWrite(), b.afterWrite(), b.afterWrite(), b.afterWrite()]);
    expect(storage.estimates).toBe(1);  // then cached
  });

  it('without navigator.storage (or when estimate() fails) there is no budget and nothing breaks', async () => {
    const { db, host } = fakeDb(1000, 4096);
    const none = new StorageBudget(0.5, host, undefined);
    await none.afterWrite();
    expect(none.budget).toBe(Infinity);
    expect(await none.info()).toMatchObject({ usage: 0, quota: 0, budget: 0, persisted: false });
    const storage = fakeStorage(1 << 20);
    storage.fail = true;
    const failing = new StorageBudget(0.5, host, storage);
    await failing.afterWrite();
    expect(await failing.info()).toMatchObject({ quota: 0, budget: 0 });
    expect(db.evictCalls).toEqual([]);
  });
});

describe('StorageBudget over a real cache on SQLite', () => {
  it('keeps the database under its share, evicting the least recently used entries', async () => {
    const file = path.join(dir, 'budget.sqlite3');
    const store = new NodeSqliteStore(file);
    const cache = await SemanticCache.open({ embedder: toyEmbedder(64), store, threshold: 0.8, eviction: 'lru' });
    try {
      const answer = 'x'.repeat(2000);
      for (let i = 0; i < 400; i++) await cache.put(`question ${i} of the budget test`, `${i} ${answer}`);
      await cache.flush();  // the index snapshot is part of what the budget counts
      const p = store.pages();
      const before = (p.count - p.free) * p.pageSize;
      // a quota that gives this cache about half of what it now takes
      const storage = fakeStorage(before, before);
      const budget = new StorageBudget(0.5, {
        pages: () => store.pages(),
        releaseFreePages: () => store.releaseFreePages(),
        entries: () => cache[INTERNAL].entries(),
        evict: (n) => cache[INTERNAL].evict(n),
        flush: () => cache.flush(),
      }, storage);
      await budget.afterWrite();
      const q = store.pages();
      const after = (q.count - q.free) * q.pageSize;
      expect(after).toBeLessThanOrEqual(budget.budget);
      const left = (await cache.stats()).entries;
      expect(left).toBeGreaterThan(100);  // about half of 400 went, not nearly all
      expect(left).toBeLessThan(300);
      const info = await budget.info();
      expect(info.budgetEvictions).toBe(400 - left);
      // the oldest went first; the newest are still answered
      const prompts = new Set((await cache.entries({ limit: 1000 })).map((e) => e.prompt));
      expect(prompts.size).toBe(left);
      expect(prompts.has('question 0 of the budget test')).toBe(false);
      expect(prompts.has(`question ${400 - left} of the budget test`)).toBe(true);
      expect(prompts.has('question 399 of the budget test')).toBe(true);
    } finally {
      await cache.close();
    }
  });
});
