// The edge worker with its embedder inside (workers/edge/worker-onnx.mjs, EMBEDDER use-lite) in
// the real workerd runtime: the bundled int8 USE lite on ONNX Runtime Web, imported as modules.
// It runs from dist/edge-onnx, the tree the build stages and wrangler.onnx.toml uploads, with the
// same module names. Only the fake LLM runs beside it: there is no embeddings API to call.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeUpstream } from './fake-servers.mjs';
import { root } from './helpers.js';
import { workerMiniflare } from './miniflare.mjs';

let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-edge-onnx-'));

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const staged = path.join(root, 'dist/edge-onnx');

type Worker = {
  chat: (content: string) => Promise<Response>;
  stats: () => Promise<Response>;
};

/** Runs `body` against the worker `script` (the staged entry, or one from the repository) in workerd. */
async function withWorker(script: string, body: (w: Worker) => Promise<void>) {
  const modulesRoot = script.startsWith('dist/edge-onnx/') ? staged : root;
  const mf = workerMiniflare({ script, modulesRoot, durable: true, persist: dir, bindings: { UPSTREAM_BASE_URL: upstream.url, EMBEDDER: 'use-lite', CREDENTIAL_HASH_KEY: 'credential-hash-key-for-tests' } });
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const headers = { 'content-type': 'application/json', 'x-semcache-tenant': 'acme' };
    await body({
      chat: (content) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content }] }) }),
      stats: () => fetch(`${url}/cache/stats`, { headers }),
    });
  } finally {
    await mf.dispose();
  }
}

it('embeds in the isolate: a paraphrase hits, a different question misses, no embeddings API', () =>
  withWorker('dist/edge-onnx/index.mjs', async (w) => {
    const before = upstream.calls.length;
    const a = await w.chat('How do I learn Python quickly?');
    expect(a.status, await a.clone().text()).toBe(200);
    expect(a.headers.get('x-semcache')).toBe('miss');
    const first = await a.json();
    const b = await w.chat('What is the fastest way to learn Python?');
    expect(b.headers.get('x-semcache')).toBe('hit');
    const sim = Number(b.headers.get('x-semcache-similarity'));
    expect(sim).toBeGreaterThanOrEqual(0.95);  // the cosine of a close paraphrase (the learned evaluator decides)
    expect(sim).toBeLessThan(1);
    expect((await b.json()).choices[0].message.content).toBe(first.choices[0].message.content);
    const c = await w.chat('How do I cook rice in a pot?');
    expect(c.headers.get('x-semcache')).toBe('miss');
    await c.text();
    expect(upstream.calls.length - before).toBe(2);
    expect(await (await w.stats()).json()).toMatchObject({ entries: 2, dimensions: 512, cacheErrors: 0 });
  }));

it('the entries survive a restart of the runtime, found by the same embeddings', () =>
  withWorker('dist/edge-onnx/index.mjs', async (w) => {
    const b = await w.chat('What is the fastest way to learn Python?');
    expect(b.headers.get('x-semcache')).toBe('hit');
    await b.text();
  }));

it('EMBEDDER use-lite on the worker without the model: the cache fails clearly, the request still succeeds', () =>
  withWorker('workers/edge/worker.mjs', async (w) => {
    const a = await w.chat('How do I learn Python quickly?');
    expect(a.status).toBe(200);
    expect(a.headers.get('x-semcache')).toBe('miss');
    await a.text();
    expect(await (await w.stats()).text()).toMatch(/EMBEDDER use-lite needs the worker entry that carries the model \(workers\/edge\/worker-onnx\.mjs\)/);
  }));
