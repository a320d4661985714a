// The wasm core and the API in real Chromium, inside a dedicated module worker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, offLocalhost, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let profile: string;

beforeAll(async () => {
  server = await serveStatic();
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-chromium-'));
  browser = await launchChromium(profile);
});

afterAll(async () => {
  await browser?.context.close();
  await server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
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
