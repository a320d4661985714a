// The wasm core and the API in real Chromium, inside a dedicated module worker.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, offLocalhost, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  server = await serveStatic();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('loads the wasm core in a browser dedicated worker and serves hits', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/tests/js/fixtures/cache-worker.html`);
  const result = await page.evaluate(() => (window as unknown as { result: Promise<Record<string, unknown>> }).result);
  expect(result.error).toBeUndefined();
  expect(result).toMatchObject({ ok: true, hit: true, answer: '8,849 m', miss: false, code: 'INVALID_PROMPT' });
  expect(result.similarity as number).toBeGreaterThan(0.8);
  expect(browser.requests.some((u) => u.endsWith('/dist/wasm/semcache_core.wasm'))).toBe(true);
  expect(offLocalhost(browser.requests)).toEqual([]);
});

it('runs the ONNX embedder (USE lite) and the cache in a browser dedicated worker', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/tests/js/fixtures/onnx-worker.html`);
  const result = await page.evaluate(() => (window as unknown as { result: Promise<Record<string, unknown>> }).result);
  expect(result.error).toBeUndefined();
  expect(result).toMatchObject({ ok: true, dims: 512, hit: true, miss: false });
  expect(result.progress as number).toBeGreaterThan(0);
  expect(offLocalhost(browser.requests)).toEqual([]);
});
