// OpfsCacheOptions.semanticOnPage in real Chromium: a page that embeds decides semantic hits on
// its copy of the entries without a message to the worker, with the worker's results (the same
// entry, answer and score as a cache that asks its worker), counted in the worker's stats; the
// copy never outlives what it copies: this page's delete and feedback act at once, another tab's
// put, delete and clear one message later, a TTL on its own, a new owner's worker is copied again;
// past its limits (or with `false`) the worker decides.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { countingOpfsPage, launchChromium, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  server = await serveStatic();
  browser = await launchChromium();  // a fresh profile, removed by close()
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type W = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

/** A page of the fixture (toy bag-of-words embedder, cosine 0.8) whose requests to workers are
 * counted in window.sent, but for the notes of hits decided on the page. It also gets
 * window.onPage(cache): resolves once the cache's copy is ready (or rejects with its state). */
async function newPage(): Promise<Page> {
  const page = await countingOpfsPage(browser.context, server.url, ['exactHits', 'pageHits']);
  await page.evaluate(() => {
    const w = window as unknown as W;
    w.onPage = async (c: W) => {
      for (let i = 0; i < 400; i++) {
        const s = (await c.stats()).semanticOnPage;
        if (s?.state === 'ready') return s;
        if (s?.state === 'off') throw new Error(`copy off: ${s.reason}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('copy not ready within 4 s');
    };
    // polls c.get(q) until pred(result) holds; resolves the result, or null after 3 s
    w.until = async (c: W, q: string, pred: (r: W) => boolean) => {
      const t0 = performance.now();
      for (;;) {
        const r = await c.get(q);
        if (pred(r)) return r;
        if (performance.now() - t0 > 3000) return null;
        await new Promise((res) => setTimeout(res, 10));
      }
    };
  });
  return page;
}

const CACHED = [
  ['How do I learn Python quickly?', 'Practice every day.'],
  ['Which planet is closest to the sun?', 'Mercury'],
  ['What is the capital of France?', 'Paris'],
  ['How tall is Mount Everest?', '8,849 m'],
] as const;
const QUERIES = [
  'How do I learn Python fast?',  // hits the first
  'Which planet is the closest to the sun?',
  'What is the capital city of France?',
  'How tall is Everest?',
  'What is the population of Spain?',  // shares a few words
  'Who wrote Hamlet?',  // far from everything
];

it('decides semantic hits on the page with the worker\'s results and counts them in its stats', async () => {
  const page = await newPage();
  const r = await page.evaluate(
    async ([cached, queries]) => {
      const w = window as unknown as W;
      const on = await w.openCache('sem-on');
      const off = await w.openCache('sem-off', { semanticOnPage: false });
      for (const [q, a] of cached) await on.put(q, a, { metadata: { q } }), await off.put(q, a, { metadata: { q } });
      const status = await w.onPage(on);
      const s0 = await on.stats();
      const sent = w.sent;
      const here = [];
      for (const q of queries) here.push(await on.get(q));
      const messages = w.sent - sent;
      const pairs = [];
      for (const [i, q] of queries.entries()) pairs.push([here[i], await off.get(q)]);
      const s1 = await on.stats();
      const offStats = await off.stats();
      (await on.get(queries[0])).metadata.q = 'changed by the caller';
      const again = await on.get(queries[0]);
      // this page's feedback: the entry is the worker's to decide at once, with the raised offset
      const fb = await on.feedback(again.id, { correct: false });
      const afterFeedback = await on.get(queries[0]);
      await new Promise((res) => setTimeout(res, 100));  // its new offset has reached the copy
      const sentLater = w.sent;
      const later = await on.get(queries[0]);
      const laterMessages = w.sent - sentLater;
      // this page's delete: gone from the copy at once
      const hit = await on.get(queries[1]);
      await on.delete(hit.id);
      const afterDelete = await on.get(queries[1]);
      // a TTL holds on the copy
      await on.put('What time is it in Tokyo?', 'Ten past nine.', { ttl: 600 });
      const fresh = await w.until(on, 'What time is it in Tokyo now?', (x: W) => x.hit && x.timings.workerMs === undefined);
      await new Promise((res) => setTimeout(res, 700));
      const expired = await on.get('What time is it in Tokyo now?');
      await on.close();
      await off.close();
      // exact repeats too, before anything is embedded (here without the page's memo of them)
      const memoOff = await w.openCache('sem-exact', { exactOnPage: false });
      await memoOff.put('How do I learn Python quickly?', 'Practice every day.');
      await w.onPage(memoOff);
      const sentExact = w.sent;
      const s2 = await memoOff.stats();
      const repeat = await memoOff.get('  HOW DO I LEARN PYTHON QUICKLY ');
      const repeatWide = await memoOff.get('ＨＯＷ do I learn Python quickly?');  // normalized by the core, not in JS
      const notText = await memoOff.get(42 as unknown as string).then(() => 'no error', (e: { code?: string }) => e.code);
      const exactMessages = w.sent - sentExact - 1;  // less the stats call
      const s3 = await memoOff.stats();
      await memoOff.close();
      return { status, s0, s1, offStats, pairs, messages, again, fb, afterFeedback, later, laterMessages, hit, afterDelete, fresh, expired, repeat, repeatWide, notText, exactMessages, exactHits: s3.exactHits - s2.exactHits, embeds: s3.embedCalls - s2.embedCalls };
    },
    [CACHED, QUERIES] as const,
  );
  expect(r.status).toEqual({ state: 'ready', entries: 4 });
  expect(r.offStats.semanticOnPage).toBeUndefined();
  let hits = 0;
  for (const [here, worker] of r.pairs) {
    // the same decision, entry, answer and scores as the worker's
    expect(here.hit).toBe(worker.hit);
    expect(here.similarity).toBeCloseTo(worker.similarity, 6);
    expect(here.score).toBeCloseTo(worker.score, 6);
    if (!here.hit) continue;
    hits++;
    expect(here).toMatchObject({ id: worker.id, answer: worker.answer, matchedPrompt: worker.matchedPrompt, exact: false, tier: 'local' });
    expect(here.metadata).toEqual(worker.metadata);
    expect(here.timings.workerMs).toBeUndefined();  // no worker in it
    expect(here.timings.embedMs).toBeGreaterThanOrEqual(0);  // this page embedded (the toy model: under the timer's step)
    expect(worker.timings.workerMs).toBeGreaterThanOrEqual(0);  // the worker answered (a fast lookup can read 0 in its timer's steps)
  }
  expect(hits).toBe(4);
  expect(r.pairs[4][0].hit).toBe(false);
  // hits asked nothing of the worker; the misses did
  expect(r.messages).toBe(2);
  expect(r.s1.hits - r.s0.hits).toBe(4);
  expect(r.s1.lookups - r.s0.lookups).toBe(6);
  expect(r.again.metadata.q).toBe(CACHED[0][0]);  // a copy per hit
  expect(r.fb.thresholdOffset).toBeGreaterThan(0);
  expect(r.afterFeedback.hit).toBe(false);
  expect(r.afterFeedback.timings.workerMs).toBeGreaterThanOrEqual(0);  // the worker answered
  expect(r.later.hit).toBe(false);
  expect(r.laterMessages).toBe(1);  // a miss on the page, then the worker's
  expect(r.hit.hit).toBe(true);
  expect(r.afterDelete.hit && r.afterDelete.id === r.hit.id).toBe(false);
  expect(r.fresh).not.toBeNull();
  expect(r.expired.hit).toBe(false);
  expect(r.repeat).toMatchObject({ hit: true, exact: true, answer: 'Practice every day.', tier: 'local' });
  expect(r.repeat.timings.embedMs).toBe(0);
  expect(r.repeatWide).toMatchObject({ hit: true, exact: true, answer: 'Practice every day.', tier: 'local' });
  expect(r.notText).toBe('INVALID_PROMPT');
  expect(r.exactMessages).toBe(0);
  expect(r.exactHits).toBe(2);
  expect(r.embeds).toBe(0);
  await page.close();
}, 120_000);

it("another tab's put, delete and clear reach the copy; a new owner's worker is copied again", async () => {
  const [a, b] = [await newPage(), await newPage()];
  const open = (p: Page) => p.evaluate(async () => {
    const w = window as unknown as W;
    w.cache = await w.openCache('sem-tabs');
    return w.cache.isOwner as boolean;
  });
  expect(await open(a)).toBe(true);
  expect(await open(b)).toBe(false);
  await b.evaluate(() => (window as unknown as W).onPage((window as unknown as W).cache));
  // a puts: b decides on it on its page a moment later
  await a.evaluate(() => (window as unknown as W).cache.put('How do I learn Python quickly?', 'Practice every day.'));
  const onB = (pred: string) =>
    b.evaluate(([pred]) => {
      const w = window as unknown as W;
      const preds: Record<string, (x: W) => boolean> = {
        hitHere: (x) => x.hit && x.timings.workerMs === undefined,
        miss: (x) => !x.hit,
      };
      return w.until(w.cache, 'How do I learn Python fast?', preds[pred]);
    }, [pred] as const);
  const hit = await onB('hitHere');
  expect(hit).toMatchObject({ hit: true, answer: 'Practice every day.' });
  // a deletes it: b misses, and keeps missing
  await a.evaluate(async (id) => (window as unknown as W).cache.delete(id), hit!.id);
  expect(await onB('miss')).not.toBeNull();
  expect(await b.evaluate(async () => (await (window as unknown as W).cache.get('How do I learn Python fast?')).hit)).toBe(false);
  // a puts again, then clears: the same
  await a.evaluate(() => (window as unknown as W).cache.put('How do I learn Python quickly?', 'Build small projects.'));
  expect(await onB('hitHere')).toMatchObject({ answer: 'Build small projects.' });
  await a.evaluate(() => (window as unknown as W).cache.clear());
  expect(await onB('miss')).not.toBeNull();
  await a.evaluate(() => (window as unknown as W).cache.put('How do I learn Python quickly?', 'Read the tutorial.'));
  expect(await onB('hitHere')).toMatchObject({ answer: 'Read the tutorial.' });
  // a closes: b owns a new worker (another life), copies it again and decides on its page
  await a.evaluate(() => (window as unknown as W).cache.close());
  await a.close();
  const after = await b.evaluate(async () => {
    const w = window as unknown as W;
    for (let i = 0; i < 300 && !w.cache.isOwner; i++) await new Promise((r) => setTimeout(r, 10));
    const r = await w.until(w.cache, 'How do I learn Python fast?', (x: W) => x.hit && x.timings.workerMs === undefined);
    return { owner: w.cache.isOwner, r };
  });
  expect(after.owner).toBe(true);
  expect(after.r).toMatchObject({ hit: true, answer: 'Read the tutorial.' });
  await b.evaluate(() => (window as unknown as W).cache.close());
  await b.close();
}, 120_000);

it('past its limits, or turned off, the worker decides; bad options are refused', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const c = await w.openCache('sem-limits', { semanticOnPage: { maxEntries: 2 } });
    for (const q of ['How do I learn Python quickly?', 'Which planet is closest to the sun?', 'What is the capital of France?']) await c.put(q, 'x');
    // the copy made at open had room; the third put took it past its limit
    let s = (await c.stats()).semanticOnPage;
    for (let i = 0; i < 300 && s.state !== 'off'; i++) await new Promise((res) => setTimeout(res, 10)), (s = (await c.stats()).semanticOnPage);
    const hit = await c.get('How do I learn Python fast?');
    await c.close();
    const refuse = (o: object) => w.openCache('sem-bad', o).then(() => null, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    const badLimits = await refuse({ semanticOnPage: { maxBytes: -1 } });
    // (through Function: Vitest would rewrite an import() written here)
    const { SemanticCache } = await new Function('return import("/dist/index.js")')();
    const workerToo = await SemanticCache.open({ storage: 'opfs', name: 'sem-worker', workerEmbedder: {}, semanticOnPage: true }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
    // the page's embedder's own threshold is the worker's too (and so the copy decides with it)
    const { toyEmbedder } = await new Function('return import("/tests/js/fixtures/toy-embedder.mjs")')();
    const embed = toyEmbedder(32);
    const own = await w.openCache('sem-own-threshold', { threshold: undefined, embedder: { id: 'toy-32', dimensions: 32, defaultThreshold: 0.85, embed } });
    const ownThreshold = { page: own.threshold, worker: (await own.stats()).threshold, copy: await w.onPage(own).then((x: W) => x.state, (e: Error) => e.message) };
    await own.close();
    return { s, hit, badLimits, workerToo, ownThreshold };
  });
  expect(r.ownThreshold).toEqual({ page: 0.85, worker: 0.85, copy: 'ready' });
  expect(r.s.state).toBe('off');
  expect(r.s.reason).toMatch(/past 2 entries/);
  expect(r.hit.hit).toBe(true);
  expect(r.hit.timings.workerMs).toBeGreaterThanOrEqual(0);  // the worker answered
  expect(r.badLimits?.code).toBe('INVALID_ARGUMENT');
  expect(r.badLimits?.message).toMatch(/semanticOnPage\.maxBytes/);
  expect(r.workerToo?.code).toBe('INVALID_ARGUMENT');
  expect(r.workerToo?.message).toMatch(/semanticOnPage needs the page to embed/);
  await page.close();
}, 120_000);
