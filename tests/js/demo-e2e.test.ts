// The offline demo end to end in real Chromium, served by the `npm start` server: a question
// misses and GPT-2 streams the answer; a paraphrase hits with its similarity shown; after a
// reload the cache (SQLite on OPFS, in a worker) still answers. No request leaves localhost.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../dist/server/config.js';
import { startServer } from '../../dist/server/main.js';
import { root } from './helpers.js';
import { ask, ready } from './demo-page.js';
import { launchChromium, offLocalhost } from './serve.js';

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const shots = path.join(root, 'test-output/demo');

beforeAll(async () => {
  const cfg = parseConfig(['--port', '0', '--storage', 'memory']);
  if (cfg === 'help') throw new Error('unexpected');
  server = await startServer(cfg, () => {});
  browser = await launchChromium();
  fs.mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('asks, streams, hits a paraphrase, and still hits after a reload', async () => {
  const page = await browser.context.newPage();
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(new URL(w.url()).pathname));
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto(`${server.url}/`);
  await ready(page);
  // the cache and GPT-2 each in a dedicated worker, started from the repository's workers/
  expect(workers).toEqual(expect.arrayContaining(['/workers/opfs-cache.js', '/workers/gpt2.js']));
  // cross-origin isolated (server/static.ts): timers in 5 µs steps, for the figures it shows
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // Count how often the streaming answer's text changes: a streamed answer changes many times.
  await page.evaluate(() => {
    (window as unknown as { updates: number }).updates = 0;
    new MutationObserver(() => (window as unknown as { updates: number }).updates++).observe(document.getElementById('messages')!, { subtree: true, characterData: true, childList: true });
  });
  const first = await ask(page, 'How do I learn Python quickly?');
  expect(first.result).toBe('miss');
  expect(first.meta).toMatch(/MISS/);
  expect(first.meta).toMatch(/tok\/s · KV on/);
  expect(await page.evaluate(() => (window as unknown as { updates: number }).updates)).toBeGreaterThan(5);
  // the page's copy of the cache's entries holds the answer (it follows the worker's writes)
  const copy = await page.evaluate(async () => {
    const c = (window as unknown as { demo: { cache: { stats(): Promise<{ semanticOnPage?: { state: string; entries: number } }> } } }).demo.cache;
    for (let i = 0; i < 500; i++) {
      const s = (await c.stats()).semanticOnPage;
      if (s?.state === 'ready' && s.entries >= 1) return s;
      await new Promise((r) => setTimeout(r, 10));
    }
    return (await c.stats()).semanticOnPage;
  });
  expect(copy).toEqual({ state: 'ready', entries: 1 });
  const second = await ask(page, 'What is the fastest way to learn Python?');
  expect(second.result).toBe('hit');
  expect(second.text).toBe(first.text);
  expect(second.meta).toMatch(/similarity 0\.9\d\d/);
  expect(second.meta).toContain('How do I learn Python quickly?');
  expect(second.meta).toContain('HIT · this device');
  // the same question in other case and without its "?": the same normalized text, answered on
  // the page without embedding (the demo embeds on the page and decides hits there)
  const repeat = await ask(page, 'how do i learn python quickly');
  expect(repeat.result).toBe('hit');
  expect(repeat.text).toBe(first.text);
  expect(repeat.meta).toContain('the same question (no embedding)');
  expect(await page.evaluate(() => (window as unknown as { demo: { embedIn: string } }).demo.embedIn)).toBe('page');
  expect(second.meta).toContain('decided on this page');
  await page.screenshot({ path: path.join(shots, 'laptop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, 'phone.png'), fullPage: true });

  await page.reload();
  await ready(page);
  expect(await page.locator('#entries li').first().textContent()).toContain('How do I learn Python quickly?');
  const third = await ask(page, 'What is the fastest way to learn Python?');
  expect(third.result).toBe('hit');
  expect(third.text).toBe(first.text);
  await page.screenshot({ path: path.join(shots, 'after-reload.png'), fullPage: true });
  expect(offLocalhost(browser.requests)).toEqual([]);

  // Another device (a fresh profile: an empty OPFS cache): the server's cache, which the first
  // device wrote GPT-2's answer through to, answers it; GPT-2 is not asked.
  const other = await launchChromium();
  try {
    const page2 = await other.context.newPage();
    await page2.goto(`${server.url}/`);
    await ready(page2);
    const fourth = await ask(page2, 'How do I learn Python quickly?');
    expect(fourth.result).toBe('hit');
    expect(fourth.text).toBe(first.text);
    expect(fourth.meta).toContain('HIT · server');
    const fifth = await ask(page2, 'How do I learn Python quickly?');
    expect(fifth.meta).toContain('HIT · this device');  // copied here on the way
    expect(offLocalhost(other.requests)).toEqual([]);
  } finally {
    await other.close();
  }
});
