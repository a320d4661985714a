// OpfsCacheOptions.exactOnPage in real Chromium: an exact (normalized) repeat is answered on the
// page without a message to the worker, counted in the worker's stats, and never outlives its
// entry: this page's delete/clear/put act at once, another tab's delete, replacement and
// eviction within one announcement, a TTL on its own; `exactOnPage: false` asks the worker.
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

/** A page of the fixture whose requests to workers are counted (window.sent), but for the
 * notes of hits answered on the page (`exactHits`, `pageHits`: sent after them). */
const newPage = (): Promise<Page> => countingOpfsPage(browser.context, server.url, ['exactHits', 'pageHits']);

type W = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

it('answers exact repeats on the page, counts them in the worker, and acts on its own changes at once', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const c = await w.openCache('exact-own');
    const put = await c.put('How do I learn Python quickly?', 'Practice every day.', { metadata: { source: 'test', when: new Date(0) } });
    const s0 = await c.stats();
    let sent = w.sent;
    const first = await c.get('  how do I learn PYTHON quickly ');
    const second = await c.get('HOW DO I LEARN PYTHON QUICKLY?');
    first.metadata.source = 'changed by the caller';
    const third = await c.get('How do I learn Python quickly?');
    const messagesForHits = w.sent - sent;
    const s1 = await c.stats();
    // another scope is another question
    sent = w.sent;
    const otherScope = await c.get('How do I learn Python quickly?', { scope: 'other' });
    const messagesForOtherScope = w.sent - sent;
    // a put of the same prompt replaces the answer at once
    await c.put('how do i learn python quickly', 'Build small projects.');
    const replaced = await c.get('How do I learn Python quickly?');
    // its own delete and clear: no stale answer, not even once
    const deleted = await c.delete(replaced.id);
    const afterDelete = await c.get('How do I learn Python quickly?');
    await c.put('Which planet is closest to the sun?', 'Mercury');
    const beforeClear = await c.get('which planet is closest to the sun');
    await c.clear();
    const afterClear = await c.get('which planet is closest to the sun');
    // a TTL holds on the page too
    await c.put('What time is it in Tokyo?', 'Ten past nine.', { ttl: 400 });
    const fresh = await c.get('what time is it in tokyo');
    await new Promise((r) => setTimeout(r, 500));
    const expired = await c.get('what time is it in tokyo');
    await c.close();
    return { put, s0, s1, first, second, third, messagesForHits, otherScope, messagesForOtherScope, replaced, deleted, afterDelete, beforeClear, afterClear, fresh, expired };
  });
  for (const h of [r.first, r.second, r.third]) {
    expect(h).toMatchObject({ hit: true, exact: true, id: r.put.id, answer: 'Practice every day.', matchedPrompt: 'How do I learn Python quickly?', similarity: 1, score: 1, tier: 'local' });
    expect(h.timings.embedMs).toBe(0);
  }
  // the metadata as the worker keeps it (JSON), a copy per hit
  expect(r.second.metadata).toEqual({ source: 'test', when: '1970-01-01T00:00:00.000Z' });
  expect(r.third.metadata.source).toBe('test');
  expect(r.messagesForHits).toBe(0);
  // the worker heard of them (one note after the hits, before stats)
  expect(r.s1.exactHits - r.s0.exactHits).toBe(3);
  expect(r.s1.hits - r.s0.hits).toBe(3);
  expect(r.otherScope.hit).toBe(false);
  expect(r.messagesForOtherScope).toBeGreaterThan(0);
  expect(r.replaced).toMatchObject({ hit: true, answer: 'Build small projects.' });
  expect(r.replaced.id).not.toBe(r.put.id);
  expect(r.deleted).toBe(true);
  expect(r.afterDelete.hit).toBe(false);
  expect(r.beforeClear.hit).toBe(true);
  expect(r.afterClear.hit).toBe(false);
  expect(r.fresh.hit).toBe(true);
  expect(r.expired.hit).toBe(false);
  await page.close();
}, 120_000);

it("another tab's delete, replacement and eviction reach this page's answers within one announcement", async () => {
  const [a, b] = [await newPage(), await newPage()];
  const open = (p: Page) => p.evaluate(async () => {
    const w = window as unknown as W;
    w.cache = await w.openCache('exact-tabs', { maxEntries: 3 });
    return w.cache.isOwner as boolean;
  });
  expect(await open(a)).toBe(true);
  expect(await open(b)).toBe(false);
  // a learns three answers (its puts, then a hit on b's put through the worker)
  const learned = await a.evaluate(async () => {
    const c = (window as unknown as W).cache;
    await c.put('What is the capital of France?', 'Paris');
    await c.put('What is the capital of Italy?', 'Rome');
    return (await c.get('what is the capital of italy')).answer;
  });
  expect(learned).toBe('Rome');
  const sentBefore = await a.evaluate(() => (window as unknown as W).sent);
  expect(await a.evaluate(async () => (await (window as unknown as W).cache.get('What is the capital of France?')).answer)).toBe('Paris');
  expect(await a.evaluate(() => (window as unknown as W).sent)).toBe(sentBefore);
  /** How long until a's answer for `q` is no longer `stale` (polling; -1: not within 2 s). It
   * may then be a miss or a semantic hit on another question (the toy embedder is coarse). */
  const settle = (q: string, stale: string) =>
    a.evaluate(async ([q, stale]) => {
      const c = (window as unknown as W).cache;
      const t0 = performance.now();
      for (;;) {
        const r = await c.get(q);
        if (!(r.hit && r.exact && r.answer === stale)) return performance.now() - t0;
        if (performance.now() - t0 > 2000) return -1;
        await new Promise((res) => setTimeout(res, 5));
      }
    }, [q, stale] as const);
  const answer = (q: string) => a.evaluate(async (q) => {
    const r = await (window as unknown as W).cache.get(q);
    return r.hit && r.exact ? r.answer : null;
  }, q);
  // b deletes France
  await b.evaluate(async () => {
    const c = (window as unknown as W).cache;
    const r = await c.get('What is the capital of France?');
    await c.delete(r.id);
  });
  expect(await settle('What is the capital of France?', 'Paris')).toBeGreaterThanOrEqual(0);
  expect(await answer('What is the capital of France?')).toBe(null);
  // b replaces Italy's answer
  await b.evaluate(() => (window as unknown as W).cache.put('What is the capital of Italy?', 'Roma'));
  expect(await settle('What is the capital of Italy?', 'Rome')).toBeGreaterThanOrEqual(0);
  expect(await answer('What is the capital of Italy?')).toBe('Roma');
  // b's puts evict the least recently used (maxEntries 3): Italy, which a then must not answer
  await b.evaluate(async () => {
    const c = (window as unknown as W).cache;
    for (const q of ['Who painted the Mona Lisa?', 'How tall is Mount Everest?', 'Best pizza topping for kids']) await c.put(q, 'x');
  });
  expect(await settle('What is the capital of Italy?', 'Roma')).toBeGreaterThanOrEqual(0);
  expect(await answer('What is the capital of Italy?')).toBe(null);
  await b.evaluate(() => (window as unknown as W).cache.close());
  await a.evaluate(() => (window as unknown as W).cache.close());
  await Promise.all([a.close(), b.close()]);
}, 120_000);

it('exactOnPage: false asks the worker; bad limits are refused', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const c = await w.openCache('exact-off', { exactOnPage: false });
    await c.put('How do I learn Python quickly?', 'Practice every day.');
    const sent = w.sent;
    const hit = await c.get('How do I learn Python quickly?');
    const messages = w.sent - sent;
    await c.close();
    const bad = await w.openCache('exact-bad', { exactOnPage: { maxEntries: -1 } }).then(() => null, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    return { hit, messages, bad };
  });
  expect(r.hit).toMatchObject({ hit: true, exact: true });
  expect(r.messages).toBeGreaterThan(0);
  expect(r.bad?.code).toBe('INVALID_ARGUMENT');
  expect(r.bad?.message).toMatch(/exactOnPage\.maxEntries/);
  await page.close();
}, 120_000);
