// The browser tier in real Chromium (OPFS): stats() reports the origin's usage and quota and the
// cache's budget; a budget smaller than the cache evicts; an export crosses between the page and
// Node both ways (and a damaged one is refused); and a page's cache uses a semcache server on
// another origin (CORS) as its next tier, keeping its private scope to itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { createHandler, remoteUpstream } from '../../dist/server/handler.js';
import { serveHandler, type NodeServer } from '../../dist/server/node-http.js';
import { toyEmbedder } from './fixtures/toy-embedder.mjs';
import { launchChromium, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let profile: string;
let page: Page;
const ADMIN = 'browser-tier-admin';

beforeAll(async () => {
  server = await serveStatic();
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-tiers-browser-'));
  browser = await launchChromium(profile);
  page = await browser.context.newPage();
  await page.goto(`${server.url}/tests/js/fixtures/persist-page.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
});
afterAll(async () => {
  await browser?.context.close();
  await server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

type W = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

/** The same embedder as the page's (fixtures/toy-embedder.mjs, 32-d, id 'function'). */
const nodeCache = () => SemanticCache.open({ embedder: toyEmbedder(32), threshold: 0.8, maxEntries: 0 });

describe('living within the browser storage', () => {
  it("stats() reports the origin's usage and quota, the budget and persistence", async () => {
    const r = await page.evaluate(async () => {
      const c = await (window as unknown as W).openCache('stats', { storageShare: 0.25 });
      for (let i = 0; i < 50; i++) await c.put(`storage question ${i}`, 'y'.repeat(1000));
      const s = await c.stats();
      const est = await navigator.storage.estimate();
      const persisted = await navigator.storage.persisted();
      await c.close();
      return { storage: s.storage, est: { usage: est.usage, quota: est.quota }, persisted };
    });
    expect(r.storage.quota).toBe(r.est.quota);
    expect(r.storage.quota).toBeGreaterThan(0);
    expect(r.storage.usage).toBeGreaterThan(0);
    expect(r.storage.budget).toBe(Math.floor(0.25 * r.storage.quota));
    expect(r.storage.databaseBytes).toBeGreaterThan(50 * 1000);
    expect(r.storage.persisted).toBe(r.persisted);
    expect(r.storage.budgetEvictions).toBe(0);
  });

  it('a budget smaller than the cache evicts down to it', async () => {
    const r = await page.evaluate(async () => {
      const { quota } = await navigator.storage.estimate();
      const budget = 1_500_000;
      const c = await (window as unknown as W).openCache('budget', { storageShare: budget / quota! });
      for (let i = 0; i < 800; i++) await c.put(`budget question ${i} on subject ${i * 13}`, `${i} ${'z'.repeat(3000)}`);
      let s = await c.stats();
      for (let k = 0; k < 100 && (s.storage.budgetEvictions === 0 || s.storage.databaseBytes > s.storage.budget); k++) {
        await new Promise((f) => setTimeout(f, 50));
        s = await c.stats();
      }
      const newest = await c.get('budget question 799 on subject 10387');
      await c.close();
      return { storage: s.storage, entries: s.entries, newest: newest.hit };
    });
    expect(r.storage.budgetEvictions).toBeGreaterThan(0);
    expect(r.entries).toBeLessThan(800);
    expect(r.entries).toBe(800 - r.storage.budgetEvictions);
    // the file itself shrank under the budget (incremental vacuum), not only its rows
    expect(r.storage.databaseBytes).toBeLessThanOrEqual(r.storage.budget);
    expect(r.newest).toBe(true);
  });
});

describe('export and import between the page and Node', () => {
  it('Node -> page -> Node, and a damaged file refused by the page with nothing kept', async () => {
    const a = await nodeCache();
    for (let i = 0; i < 40; i++) await a.put(`shipped question ${i} about ${i * 3}`, `shipped answer ${i}`, { scope: 'faq', metadata: { i } });
    const file = Array.from(new Uint8Array(await new Response(a.export()).arrayBuffer()));
    await a.close();
    const r = await page.evaluate(async (bytes) => {
      const c = await (window as unknown as W).openCache('shipped');
      await c.put('a local entry', 'kept');
      const damaged = Uint8Array.from(bytes);
      damaged[damaged.length - 50] ^= 0x20;
      const refused = await c.import(damaged).then(() => null, (e: { code?: string }) => e.code);
      const afterRefusal = (await c.stats()).entries;
      const imported = await c.import(new Blob([Uint8Array.from(bytes)]));
      const hit = await c.get('shipped question 21 about 63', { scope: 'faq' });
      await c.put('written in the browser', 'browser answer', { scope: 'faq' });
      const out = Array.from(new Uint8Array(await new Response(c.export({ scope: 'faq' })).arrayBuffer()));
      await c.close();
      return { refused, afterRefusal, imported, hit, out };
    }, file);
    expect(r.refused).toBe('CORRUPT_EXPORT');
    expect(r.afterRefusal).toBe(1);
    expect(r.imported).toEqual({ imported: 40, expired: 0 });
    expect(r.hit).toMatchObject({ hit: true, answer: 'shipped answer 21', metadata: { i: 21 } });
    const b = await nodeCache();
    try {
      expect(await b.import(Uint8Array.from(r.out))).toEqual({ imported: 41, expired: 0 });
      expect(await b.get('written in the browser', { scope: 'faq' })).toMatchObject({ hit: true, answer: 'browser answer' });
    } finally {
      await b.close();
    }
  });
});

describe('a page cache with a server as its next tier', () => {
  let remote: SemanticCache;
  let api: NodeServer;
  const seen: string[] = [];
  beforeAll(async () => {
    remote = await nodeCache();
    const handler = createHandler({ cache: remote, upstream: remoteUpstream('http://127.0.0.1:9', { apiKey: 'unused' }), adminToken: ADMIN, corsOrigins: [server.url] });
    api = await serveHandler(async (req, info) => {
      if (req.method === 'POST') seen.push(`${new URL(req.url).pathname} ${await req.clone().text()}`);
      return handler(req, info);
    });
  });
  afterAll(async () => {
    await api?.close();
    await remote?.close();
  });

  it('local miss -> remote hit -> local hit; private never leaves; remote down is a miss', async () => {
    const put = await fetch(`${api.url}/cache/put`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-semcache-admin-token': ADMIN }, body: JSON.stringify({ prompt: 'How far is the Moon?', answer: '384,400 km' }) });
    expect(put.status).toBe(200);
    seen.length = 0;
    const r = await page.evaluate(
      async ({ url, admin }) => {
        const w = window as unknown as W;
        const c = await w.openCache('tiered', {
          next: w.remoteCache({ url, headers: { 'x-semcache-admin-token': admin } }),
          share: (scope: unknown) => (scope === 'mine' ? 'private' : 'shared'),
        });
        const first = await c.get('how far is the moon');
        const second = await c.get('how far is the moon');
        const computed = await c.getOrCompute('Who wrote Hamlet?', () => 'Shakespeare');
        const mine = await c.getOrCompute('What is my diary password?', () => 'secret', { scope: 'mine' });
        const stats = await c.stats();
        await c.close();
        const down = await w.openCache('tiered-down', { next: w.remoteCache({ url: 'http://127.0.0.1:9', timeoutMs: 2000 }) });
        const miss = await down.get('how far is the moon');
        const fallback = await down.getOrCompute('how far is the moon', () => 'computed on the page');
        await down.close();
        return { first, second, computed, mine, next: stats.next, miss: { hit: miss.hit, code: miss.cacheError?.code }, fallback: { tier: fallback.tier, answer: fallback.answer, code: fallback.cacheError?.code } };
      },
      { url: api.url, admin: ADMIN },
    );
    expect(r.first).toMatchObject({ hit: true, tier: 'next', answer: '384,400 km' });
    expect(r.second).toMatchObject({ hit: true, tier: 'local', answer: '384,400 km' });
    expect(r.computed).toMatchObject({ tier: 'compute', answer: 'Shakespeare' });
    expect(r.mine).toMatchObject({ tier: 'compute', answer: 'secret' });
    expect(r.next).toEqual({ lookups: 2, hits: 1, errors: 0, writes: 1 });
    expect(seen.some((s) => s.includes('diary'))).toBe(false);
    expect(seen.filter((s) => s.startsWith('/cache/put')).map((s) => JSON.parse(s.slice(s.indexOf(' ') + 1)).answer)).toEqual(['Shakespeare']);
    expect(await remote.get('who wrote hamlet', { scope: { tenant: 'default' } })).toMatchObject({ hit: true, answer: 'Shakespeare' });
    expect(r.miss).toEqual({ hit: false, code: 'REMOTE_FAILED' });
    expect(r.fallback).toEqual({ tier: 'compute', answer: 'computed on the page', code: 'REMOTE_FAILED' });
  });
});
