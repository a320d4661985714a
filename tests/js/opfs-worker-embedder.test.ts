// OpfsCacheOptions.workerEmbedder in real Chromium: the OPFS cache's worker loads the bundled
// ONNX model itself, so a lookup sends the prompt only; an exact (normalized) repeat is answered
// without embedding, a miss's vector comes back for the put that follows (no second embedding),
// the model's download progress reaches the page, and the entries survive a reopen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { root } from './helpers.js';
import { launchChromium, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let profile: string;
let page: Page;

beforeAll(async () => {
  server = await serveStatic();
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-worker-embedder-'));
  browser = await launchChromium(profile);
  page = await browser.context.newPage();
  await page.goto(`${server.url}/tests/js/fixtures/persist-page.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  // relative URLs: the page's, resolved before they cross to the worker
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    w.workerEmbedder = (progress: unknown[]) => ({
      ort: '/node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs',
      wasmPaths: '/node_modules/onnxruntime-web/dist/',
      warmup: 2,
      onProgress: (p: unknown) => progress.push(p),
    });
  });
}, 120_000);
afterAll(async () => {
  await browser?.context.close();
  await server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

type W = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

it('embeds in the worker: semantic hits, exact repeats without embedding, one embedding per miss and put', async () => {
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const progress: { url: string; loaded: number; total: number | null }[] = [];
    const c = await w.openCache('in-worker', { embedder: undefined, threshold: undefined, workerEmbedder: w.workerEmbedder(progress) });
    const opened = await c.stats();
    await c.put('How do I learn Python quickly?', 'Practice every day.');
    const semantic = await c.get('What is the fastest way to learn Python?');
    const exact = await c.get('  how do I learn PYTHON quickly ');
    const afterHits = await c.stats();
    let computed = 0;
    const miss = await c.getOrCompute('Which planet is closest to the sun?', async () => (computed++, 'Mercury'));
    const afterMiss = await c.stats();
    const again = await c.get('which planet is closest to the sun');
    await c.close();
    const reopened = await w.openCache('in-worker', { embedder: undefined, threshold: undefined, workerEmbedder: w.workerEmbedder([]) });
    const kept = await reopened.get('How do I learn Python quickly?');
    const keptStats = await reopened.stats();
    await reopened.close();
    return { progress, opened, semantic, exact, afterHits, computed, miss, afterMiss, again, kept, keptStats, dims: c.dimensions };
  });
  expect(r.dims).toBe(512);
  expect(r.opened.embedder).toMatch(/^use-lite-cache-q8@/);
  expect(r.opened.evaluator).toBe('learned');  // the bundled model's calibrated default, picked in the worker
  // the test server sends no Content-Length (total null): the last event has all the bytes
  const q8 = fs.statSync(path.join(root, 'dist/models/use-lite-cache/model_q8.onnx')).size;
  expect(r.progress.filter((p) => /model_q8\.onnx$/.test(p.url)).at(-1)?.loaded).toBe(q8);
  expect(r.semantic.hit).toBe(true);
  expect(r.semantic.exact).toBe(false);
  expect(r.semantic.timings.embedMs).toBeGreaterThan(0);
  // the worker's own time (it embedded) is part of the page's total; the rest is the round trip
  expect(r.semantic.timings.workerMs).toBeGreaterThanOrEqual(r.semantic.timings.embedMs);
  expect(r.semantic.timings.totalMs).toBeGreaterThanOrEqual(r.semantic.timings.workerMs);
  expect(r.exact.hit).toBe(true);
  expect(r.exact.exact).toBe(true);
  expect(r.exact.matchedPrompt).toBe('How do I learn Python quickly?');
  expect(r.exact.timings.embedMs).toBe(0);
  expect(r.exact).not.toHaveProperty('vector');
  // the put and the semantic get embedded (in the worker; the warm-up is not counted); the exact repeat did not
  expect(r.afterHits.embedCalls - r.opened.embedCalls).toBe(2);
  expect(r.computed).toBe(1);
  expect(r.miss.hit).toBe(false);
  expect(r.miss.tier).toBe('compute');
  // the miss embedded once; its put reused that vector
  expect(r.afterMiss.embedCalls - r.afterHits.embedCalls).toBe(1);
  expect(r.again.hit && r.again.exact).toBe(true);
  expect(r.again.answer).toBe('Mercury');
  expect(r.kept.hit && r.kept.exact).toBe(true);
  expect(r.keptStats.entries).toBe(2);
}, 180_000);

it('refuses an embedder on the page and one in the worker at once', async () => {
  const code = await page.evaluate(async () => {
    const w = window as unknown as W;
    try {
      await w.openCache('both', { workerEmbedder: w.workerEmbedder([]) });
      return 'opened';
    } catch (e) {
      return (e as { code?: string }).code;
    }
  });
  expect(code).toBe('INVALID_ARGUMENT');
});
