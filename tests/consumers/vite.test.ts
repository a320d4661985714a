// semcache in a Vite app with no vite.config at all: `vite build`, the output served on
// 127.0.0.1 and opened in Chromium. The page runs the README's browser snippet (the bundled
// encoder, storage: 'opfs', a paraphrase hit), is reloaded and finds the entry still there, and
// generates a few GPT-2 tokens in the package's worker. Everything it loads (the wasm core, ONNX
// Runtime's wasm, the model, the worker scripts, SQLite's wasm) comes from the build's output.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGpt2, HF_PREFIX } from '../js/gpt2-serve.js';
import { launchChromium, offLocalhost } from '../js/serve.js';
import { devVersion, project, run, snippet } from './helpers.js';

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>semcache in Vite</title></head>
<body><script type="module" src="/src/harness.js"></script></body></html>
`;

// The test's side of the page: runs the snippet (src/main.js, the README's code as it is) and
// reports what it logged; after a reload, looks into the same OPFS cache; or runs GPT-2.
const HARNESS = `import { Gpt2, SemanticCache } from 'semcache';
import { OnnxEmbedder } from 'semcache/onnx';

const mode = new URLSearchParams(location.search).get('mode') ?? (sessionStorage.getItem('ran') ? 'reloaded' : 'snippet');

async function go() {
  if (mode === 'snippet') {
    const logged = [];
    const log = console.log;
    console.log = (...args) => (logged.push(args), log(...args));
    await import('./main.js');
    sessionStorage.setItem('ran', '1');
    return { mode, logged };
  }
  if (mode === 'reloaded') {
    const cache = await SemanticCache.open({ embedder: await OnnxEmbedder.load(), storage: 'opfs', name: 'answers' });
    const entries = (await cache.entries()).map((e) => e.prompt);
    const again = await cache.get('How can I learn Python quickly?');
    await cache.close();
    return { mode, entries, again };
  }
  if (mode === 'worker-embedder') {
    // the model loaded and run in the cache's worker, as Vite bundled it
    const cache = await SemanticCache.open({ storage: 'opfs', name: 'answers-in-worker', workerEmbedder: { warmup: 1 } });
    await cache.put('How do I learn Python quickly?', 'Practice a little every day.');
    const semantic = await cache.get('How can I learn Python quickly?');
    const exact = await cache.get('how do i learn python quickly');
    const stats = await cache.stats();
    await cache.close();
    return { mode, semantic, exact, embedCalls: stats.embedCalls, embedder: stats.embedder, dimensions: cache.dimensions };
  }
  const gpt2 = await Gpt2.load({ url: location.origin + '${HF_PREFIX}' }, { format: 'int8' });
  const tokens = [];
  for await (const t of gpt2.generate('The meaning of life is', { maxTokens: 6, temperature: 0 })) tokens.push(t.text);
  const result = { mode, inWorker: gpt2.inWorker, tokens, stats: gpt2.lastStats };
  gpt2.dispose();
  return result;
}

window.result = go().catch((e) => ({ mode, error: String(e?.stack ?? e), code: e?.code }));
`;

let dir: string;
let built: string[];
let server: Awaited<ReturnType<typeof serveGpt2>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;

type PageResult = Record<string, any>;

beforeAll(async () => {
  dir = project('vite', {
    pkg: { devDependencies: { vite: devVersion('vite') }, scripts: { build: 'vite build' } },
    files: { 'index.html': INDEX_HTML, 'src/harness.js': HARNESS, 'src/main.js': snippet('vite') },
  });
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const out = run('npm', ['run', 'build'], { cwd: dir });
  console.log(out.stdout.split('\n').filter((l) => /built in|\.wasm|\.onnx|worker/.test(l)).join('\n'));
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  built = walk(path.join(dir, 'dist')).map((f) => path.relative(path.join(dir, 'dist'), f));
  server = await serveGpt2({}, path.join(dir, 'dist'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(page: import('playwright-core').Page, url: string): Promise<PageResult> {
  await page.goto(url);
  return page.evaluate(() => (window as unknown as { result: Promise<PageResult> }).result);
}

describe('Vite app, no vite.config', () => {
  it('builds: the wasm files, the model and the workers are in its output', () => {
    expect(fs.readdirSync(dir).filter((f) => /^vite\.config\./.test(f))).toEqual([]);
    const names = built.map((f) => path.basename(f));
    expect(names.some((f) => /^semcache_core-.*\.wasm$/.test(f))).toBe(true);
    expect(names.some((f) => /^ort-wasm-simd-threaded.*\.wasm$/.test(f))).toBe(true);
    expect(names.some((f) => /^sqlite3.*\.wasm$/.test(f))).toBe(true);
    expect(names.some((f) => /^model_q8-.*\.onnx$/.test(f))).toBe(true);
    expect(names.some((f) => /^opfs-worker-.*\.js$/.test(f))).toBe(true);
    expect(names.some((f) => /^gpt2-worker-.*\.js$/.test(f))).toBe(true);
  });

  it("runs the README snippet in Chromium: storage 'opfs', a paraphrase hit that survives a reload", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const first = await open(page, `${server.url}/`);
    expect(first.error).toBeUndefined();
    expect(first.mode).toBe('snippet');
    expect(first.logged).toHaveLength(1);
    const got = first.logged[0][0];
    expect(got).toMatchObject({ hit: true, matchedPrompt: 'How do I learn Python quickly?' });
    expect(got.similarity).toBeGreaterThan(0.8);

    await page.reload();
    const second = await page.evaluate(() => (window as unknown as { result: Promise<PageResult> }).result);
    expect(second.error).toBeUndefined();
    expect(second.mode).toBe('reloaded');
    expect(second.entries).toEqual(['How do I learn Python quickly?']);
    expect(second.again).toMatchObject({ hit: true, answer: got.answer, matchedPrompt: 'How do I learn Python quickly?' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds in the OPFS worker (workerEmbedder): a paraphrase hit, and an exact repeat without embedding', async () => {
    const page = await browser.context.newPage();
    const r = await open(page, `${server.url}/?mode=worker-embedder`);
    expect(r.error).toBeUndefined();
    expect(r.dimensions).toBe(512);
    expect(r.embedder).toMatch(/^use-lite-cache-q8@/);
    expect(r.semantic).toMatchObject({ hit: true, exact: false, matchedPrompt: 'How do I learn Python quickly?' });
    expect(r.exact).toMatchObject({ hit: true, exact: true, answer: 'Practice a little every day.' });
    expect(r.embedCalls).toBe(2);  // the put and the paraphrase; the repeat embedded nothing
    expect(offLocalhost(browser.requests)).toEqual([]);
    await page.close();
  });

  it("generates GPT-2 tokens in the package's worker", async () => {
    const page = await browser.context.newPage();
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const r = await open(page, `${server.url}/?mode=gpt2`);
    expect(r.error).toBeUndefined();
    expect(r.inWorker).toBe(true);
    expect(r.tokens).toHaveLength(6);
    expect(r.tokens.join('')).toMatch(/\S/);
    expect(r.stats).toMatchObject({ generatedTokens: 6, format: 'int8', kvCache: true });
    expect(workers.some((u) => /\/gpt2-worker-[^/]*\.js$/.test(u))).toBe(true);
    await page.close();
  });

  it('loads nothing from off this machine', () => {
    expect(browser.requests.length).toBeGreaterThan(5);
    expect(offLocalhost(browser.requests)).toEqual([]);
  });
});
