// The demo's model picker (web-demo/model-picker.js) in real Chromium, served by the `npm start`
// server, with a GPT-2 checkpoint on a model host of another origin (tests/js/model-server.ts):
// the bundled model never touches that host; a 404 URL shows its error code and the bundled model
// keeps answering; a custom model downloads with progress in the pill, answers, is remembered and
// loads from the stored download after a reload with no request for its weights.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../dist/server/config.js';
import { startServer } from '../../dist/server/main.js';
import { putCheckpoint, serveModels, tokenizerFiles, type ModelServer } from './model-server.mjs';
import { ask, ready } from './demo-page.js';
import { launchChromium, offLocalhost } from './serve.js';

let server: Awaited<ReturnType<typeof startServer>>;
let models: ModelServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
type Page = Awaited<ReturnType<typeof browser.context.newPage>>;

beforeAll(async () => {
  const cfg = parseConfig(['--port', '0', '--storage', 'memory']);
  if (cfg === 'help') throw new Error('unexpected');
  server = await startServer(cfg, () => {});
  models = await serveModels();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await models?.close();
  await server?.close();
});

const pill = (page: Page) => page.locator('[data-part="gpt2"] .note').textContent();
const layers = (page: Page) => page.evaluate(() => (window as unknown as { demo: { gpt2: { info: { config: { nLayer: number } } } } }).demo.gpt2.info.config.nLayer);
async function pick(page: Page, url: string | null) {
  if (url === null) await page.check('input[name=model][value=bundled]');
  else {
    await page.check('input[name=model][value=url]');
    await page.fill('#modelUrl', url);
  }
  await page.click('#modelLoad');
}

it('picks a GPT-2 from a URL: progress, answers, remembered and loaded from storage; a 404 keeps the bundled model', async () => {
  const ck = putCheckpoint(models, 'tiny-gpt2', {}, 11);
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/`);
  await ready(page);
  expect(await pill(page)).toMatch(/^brown-gpt2: 6 layers, 256-d, int8/);
  expect(models.hits).toEqual([]);  // the bundled model never asks the model host

  // a URL that is not there: its error code, and the bundled model still answers
  await pick(page, `${models.url}/no-such-model`);
  await page.waitForSelector('#modelNote[data-code]');
  expect(await page.getAttribute('#modelNote', 'data-code')).toBe('FETCH_FAILED');
  expect(await page.textContent('#modelNote')).toMatch(/HTTP 404/);
  expect(await pill(page)).toMatch(/brown-gpt2 \(kept\)/);
  const q1 = await ask(page, 'Which river is the longest in Europe?');
  expect(q1.result).toBe('miss');
  expect(q1.meta).toMatch(/[1-9]\d* tokens/);
  expect(await layers(page)).toBe(6);

  // the checkpoint on the model host: the pill counts bytes up to the total
  await page.evaluate(() => {
    const w = window as unknown as { notes: string[] };
    w.notes = [];
    const n = document.querySelector('[data-part="gpt2"] .note')!;
    new MutationObserver(() => w.notes.push(n.textContent ?? '')).observe(n, { childList: true, characterData: true, subtree: true });
  });
  await pick(page, `${models.url}/tiny-gpt2`);
  await page.waitForFunction(() => /2 layers, 64-d/.test(document.querySelector('[data-part="gpt2"] .note')?.textContent ?? ''), null, { timeout: 120_000 });
  const notes = await page.evaluate(() => (window as unknown as { notes: string[] }).notes);
  const sizes = notes.map((t) => /^([\d.]+) MB \/ ([\d.]+) MB$/.exec(t)).filter((m) => m !== null);
  expect(sizes.length).toBeGreaterThan(2);
  const last = sizes.at(-1)!;
  expect(last[1]).toBe(last[2]);
  expect(Number(last[2])).toBeGreaterThanOrEqual(ck.weights.length / 1048576);
  expect(await pill(page)).toBe(`127.0.0.1:${new URL(models.url).port}/tiny-gpt2: 2 layers, 64-d, int8`);
  expect(await page.getAttribute('#modelNote', 'data-code')).toBeNull();
  const q2 = await ask(page, 'What is the capital city of Mongolia?');
  expect(q2.result).toBe('miss');
  expect(q2.meta).toMatch(/[1-9]\d* tokens/);
  expect(await layers(page)).toBe(2);
  const weights = () => models.hits.filter((h) => h.path === '/tiny-gpt2/model.safetensors').length;
  expect(weights()).toBe(1);

  // a reload loads the remembered model from the stored download: no request for its weights
  await page.reload();
  await ready(page);
  expect(await pill(page)).toMatch(/tiny-gpt2: 2 layers/);
  expect(await page.inputValue('#modelUrl')).toBe(`${models.url}/tiny-gpt2`);
  expect(weights()).toBe(1);
  expect(await layers(page)).toBe(2);

  // back to the bundled model: remembered, and a reload makes no request to the model host
  await pick(page, null);
  await page.waitForFunction(() => /^brown-gpt2: 6 layers/.test(document.querySelector('[data-part="gpt2"] .note')?.textContent ?? ''), null, { timeout: 120_000 });
  const hitsBefore = models.hits.length;
  await page.reload();
  await ready(page);
  expect(await pill(page)).toMatch(/^brown-gpt2: 6 layers/);
  expect(await layers(page)).toBe(6);
  expect(models.hits.length).toBe(hitsBefore);
  expect(offLocalhost(browser.requests)).toEqual([]);
  await page.close();
});

it('cancel keeps the downloaded bytes and Load continues from them with a Range request', async () => {
  const ck = putCheckpoint(models, 'big-gpt2', {}, 12);
  const file = '/big-gpt2/model.safetensors';
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/`);
  await ready(page);
  const stalled = models.fault(file, 'stall', 9_000_000);
  await pick(page, `${models.url}/big-gpt2`);
  await stalled;
  // the pill sums the four files: wait until it shows every byte sent before the stall
  const shown = `${((9_000_000 + ck.config.length + tokenizerFiles['vocab.json'].length + tokenizerFiles['merges.txt'].length) / 1048576).toFixed(1)} MB / `;
  await page.waitForFunction((s) => (document.querySelector('[data-part="gpt2"] .note')?.textContent ?? '').startsWith(s), shown, { timeout: 30_000 });
  await page.click('#modelCancel');
  await page.waitForFunction(() => /Cancelled/.test(document.getElementById('modelNote')?.textContent ?? ''));
  expect(await pill(page)).toMatch(/brown-gpt2 \(kept\)/);
  expect(await layers(page)).toBe(6);
  await pick(page, `${models.url}/big-gpt2`);
  await page.waitForFunction(() => /big-gpt2: 2 layers/.test(document.querySelector('[data-part="gpt2"] .note')?.textContent ?? ''), null, { timeout: 120_000 });
  const hits = models.hits.filter((h) => h.path === file);
  expect(hits).toHaveLength(2);
  const from = Number(/^bytes=(\d+)-$/.exec(hits[1]!.range ?? '')?.[1]);
  expect(from).toBe(9_000_000);  // every byte that arrived before the cancel was kept
  expect(hits[1]).toMatchObject({ status: 206, sent: ck.weights.length - from });
  await page.close();
});
