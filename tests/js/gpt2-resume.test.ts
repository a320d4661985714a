// Resumable, cached GPT-2 downloads in real Chromium (js/resumable.ts): a page on one origin
// loads a checkpoint from a model host on another (tests/js/model-server.ts: Range, ETag,
// If-Range, CORS, faults on demand). Nothing leaves 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { putCheckpoint, serveModels, sha256, tokenizerFiles, type ModelServer } from './model-server.mjs';
import { launchChromium, offLocalhost, serveStatic } from './serve.js';

process.env.SEMCACHE_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-resume-cache-'));
const { Gpt2 } = await import('../../dist/node.js');

let pages: Awaited<ReturnType<typeof serveStatic>>;
let models: ModelServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
type Page = Awaited<ReturnType<typeof browser.context.newPage>>;
type T = Record<string, (...a: unknown[]) => Promise<any>>;

const PART = 8 << 20;
const PROMPT = 'The result of the election was';

beforeAll(async () => {
  pages = await serveStatic();
  models = await serveModels();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await models?.close();
  await pages?.close();
});

async function open(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/tests/js/fixtures/gpt2-resume.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}
const call = (page: Page, fn: string, ...args: unknown[]) =>
  page.evaluate(([f, a]) => ((window as unknown as { t: T }).t[f as string]!)(...(a as unknown[])), [fn, args] as const);
const weightHits = (folder: string) => models.hits.filter((h) => h.path === `/${folder}/model.safetensors`);

/** Greedy ids of the same checkpoint in Node (this thread, from bytes): what the browser must match. */
async function reference(ck: { config: string; weights: Buffer }): Promise<number[]> {
  const g = await Gpt2.load(
    { weights: ck.weights, config: ck.config, encoderJson: tokenizerFiles['vocab.json'].toString(), vocabBpe: tokenizerFiles['merges.txt'].toString() },
    { worker: false, format: 'f32' },
  );
  const ids: number[] = [];
  for await (const t of g.generate(PROMPT, { maxTokens: 8, temperature: 0 })) ids.push(t.id);
  g.dispose();
  return ids;
}

it('a cut download resumes with Range and If-Range, assembles the same bytes, and is then read from OPFS', async () => {
  const ck = putCheckpoint(models, 'tiny', {}, 1);
  const url = `${models.url}/tiny/model.safetensors`;
  const total = ck.weights.length;
  expect(total).toBeGreaterThan(PART);  // more than one part
  const page = await open();
  const K = 3_000_000;
  const cut = models.fault('/tiny/model.safetensors', 'cut', K);
  const first = await call(page, 'download', url);
  await cut;
  expect(first.error).toMatchObject({ code: 'FETCH_FAILED', message: expect.stringMatching(/broke off after \d+ of \d+ bytes \(kept/) });
  const kept = await call(page, 'inspect', url);
  expect(kept.total).toBe(total);
  expect(kept.stored).toBeGreaterThan(0);
  expect(kept.stored).toBeLessThanOrEqual(K);

  const second = await call(page, 'download', url);
  expect(second.error).toBeUndefined();
  const hits = weightHits('tiny');
  expect(hits).toHaveLength(2);
  expect(hits[1]).toMatchObject({ range: `bytes=${kept.stored}-`, ifRange: models.etag('/tiny/model.safetensors'), status: 206, sent: total - kept.stored });
  expect(second.sha).toBe(sha256(ck.weights));
  expect(second.progress.at(-1)).toEqual([total, total]);
  // progress counts the stored bytes first, then goes up to the total without going back
  expect(second.progress.some(([loaded]: number[]) => loaded === kept.stored)).toBe(true);
  const loaded = second.progress.map(([l]: number[]) => l);
  expect(loaded).toEqual([...loaded].sort((a, b) => a - b));

  // finished: read back from OPFS with no request for the weights, in the page and in GPT-2's worker
  const third = await call(page, 'download', url);
  expect(third.sha).toBe(sha256(ck.weights));
  expect(third.progress.at(-1)).toEqual([total, total]);
  const gen = await call(page, 'generate', `${models.url}/tiny`);
  expect(gen.error).toBeUndefined();
  expect(weightHits('tiny')).toHaveLength(2);
  expect(gen.info.config).toMatchObject({ nLayer: 2, nEmbd: 64 });
  expect(gen.ids).toEqual(await reference(ck));
  expect(offLocalhost(browser.requests)).toEqual([]);
  await page.close();
});

it('a file changed on the server (new ETag) restarts from 0; so does a server that ignores Range', async () => {
  putCheckpoint(models, 'changing', {}, 2);
  const url = `${models.url}/changing/model.safetensors`;
  const page = await open();
  const cut = models.fault('/changing/model.safetensors', 'cut', 2_000_000);
  expect((await call(page, 'download', url)).error.code).toBe('FETCH_FAILED');
  await cut;
  const oldTag = models.etag('/changing/model.safetensors');
  const changed = putCheckpoint(models, 'changing', {}, 3);  // same size, other bytes, new ETag
  const r = await call(page, 'download', url);
  const hits = weightHits('changing');
  expect(hits[1]).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: oldTag, status: 200, sent: changed.weights.length });
  expect(r.sha).toBe(sha256(changed.weights));
  expect(r.progress[0]).toEqual([0, changed.weights.length]);

  const ck = putCheckpoint(models, 'norange', {}, 4);
  const url2 = `${models.url}/norange/model.safetensors`;
  const cut2 = models.fault('/norange/model.safetensors', 'cut', 2_000_000);
  expect((await call(page, 'download', url2)).error.code).toBe('FETCH_FAILED');
  await cut2;
  models.ignoreRange = true;
  try {
    const r2 = await call(page, 'download', url2);
    expect(weightHits('norange')[1]).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), status: 200 });
    expect(r2.sha).toBe(sha256(ck.weights));
  } finally {
    models.ignoreRange = false;
  }
  await page.close();
});

it('a cancelled download and a closed tab both resume from what was stored', async () => {
  const ck = putCheckpoint(models, 'stall', {}, 5);
  const url = `${models.url}/stall/model.safetensors`;
  const total = ck.weights.length;
  const a = await open();
  // cancel: the bytes that arrived before the abort are kept
  const stalled = models.fault('/stall/model.safetensors', 'stall', 5_000_000);
  const pending = call(a, 'download', url, 'k');
  await stalled;
  await a.waitForTimeout(300);
  await a.evaluate(() => (window as unknown as { t: T }).t.abort!('k'));
  expect((await pending).error.code).toBe('ABORTED');
  const afterCancel = await call(a, 'inspect', url);
  expect(afterCancel.stored).toBeGreaterThan(0);
  expect(afterCancel.stored).toBeLessThanOrEqual(5_000_000);

  // a tab closed mid-download (Gpt2.load in its worker): the whole parts written so far stay
  const stalled2 = models.fault('/stall/model.safetensors', 'stall', PART + 600_000 - afterCancel.stored);
  void call(a, 'generate', `${models.url}/stall`).catch(() => {});
  await stalled2;
  expect(weightHits('stall')[1]).toMatchObject({ range: `bytes=${afterCancel.stored}-`, status: 206 });
  const b = await open();
  await b.waitForFunction(
    async (u) => ((await (window as unknown as { t: T }).t.inspect!(u)) as { stored: number }).stored >= 8 << 20,
    url,
    { timeout: 30_000, polling: 200 },
  );
  await a.close();
  const gen = await call(b, 'generate', `${models.url}/stall`);
  expect(gen.error).toBeUndefined();
  expect(weightHits('stall')[2]).toMatchObject({ range: `bytes=${PART}-`, status: 206, sent: total - PART });
  expect(gen.ids).toEqual(await reference(ck));
  await b.close();
});

it('clear errors: a 404, a config that is not GPT-2, a host without CORS; a corrupt download is forgotten', async () => {
  const page = await open();
  const missing = await call(page, 'generate', `${models.url}/nothing-here`);
  expect(missing.error).toMatchObject({ code: 'FETCH_FAILED', message: expect.stringMatching(/404/) });

  models.put('/bert/config.json', JSON.stringify({ model_type: 'bert', hidden_size: 768, num_hidden_layers: 12 }));
  models.put('/bert/model.safetensors', Buffer.alloc(64));
  const bert = await call(page, 'generate', `${models.url}/bert`);
  expect(bert.error).toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/"bert" model, not GPT-2/) });
  expect(weightHits('bert')).toHaveLength(0);  // refused before the weights were asked for

  putCheckpoint(models, 'nocors', {}, 6);
  const nocors = await call(page, 'generate', `${models.url}/nocors`);
  expect(nocors.error).toMatchObject({ code: 'FETCH_FAILED', message: expect.stringMatching(/CORS/) });

  // weights that download whole but are not a checkpoint (a server that changed the file without
  // an ETag): the core refuses them and the stored copy is dropped, so the next load downloads again
  const ck = putCheckpoint(models, 'bad', {}, 7);
  models.put('/bad/model.safetensors', ck.weights.subarray(0, ck.weights.length - 4096));
  const bad = await call(page, 'generate', `${models.url}/bad`);
  expect(bad.error).toMatchObject({ code: 'CORRUPT_MODEL' });
  expect(await call(page, 'inspect', `${models.url}/bad/model.safetensors`)).toBeUndefined();
  models.put('/bad/model.safetensors', ck.weights);
  const good = await call(page, 'generate', `${models.url}/bad`);
  expect(good.error).toBeUndefined();
  expect(weightHits('bad')).toHaveLength(2);
  expect(offLocalhost(browser.requests)).toEqual([]);
  await page.close();
});
