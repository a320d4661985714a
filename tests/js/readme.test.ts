// The README's snippets must work as written: the Node usage example (with its two placeholders
// defined) runs in Node; the edge worker snippet runs in workerd (Miniflare), its package imports
// pointed at this repository's dist/ as a consumer's bundler would resolve them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { root, toyVector } from './helpers.js';
import { startFakeEmbeddings, startFakeUpstream } from './fake-servers.mjs';
import { workerMiniflare } from './miniflare.mjs';

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

it('runs the README usage example', async () => {
  const block = /## Usage\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const lines = block!.split('\n').filter((l) => l.trim());
  expect(lines.length).toBeLessThanOrEqual(10);
  const body = block!.replace(/^import .*$/m, '');
  const logs: unknown[][] = [];
  const run = new Function(
    'SemanticCache', 'myEmbeddingModel', 'callMyLLM', 'console',
    `return (async () => { ${body} })();`,
  );
  const { SemanticCache } = await import('semcache');
  await run(
    SemanticCache,
    (t: string) => toyVector(t),
    async (p: string) => `LLM answer to ${p}`,
    { log: (...a: unknown[]) => logs.push(a) },
  );
  expect(logs).toHaveLength(1);
  expect(logs[0]![0]).toBe(false);
  expect(logs[0]![1]).toBeGreaterThan(0.9);
});

it('runs the README edge worker snippet in workerd', async () => {
  const block = /\*\*In an edge worker\*\*[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  // The package's export map, as a bundler resolves it for a consumer: semcache/dist/wasm/* and
  // semcache/edge. Any other import of the package would not resolve and fails the test.
  const source = block!
    .replaceAll("'semcache/dist/wasm/", "'../../dist/wasm/")
    .replaceAll("'semcache/edge'", "'../../dist/edge/index.js'");
  expect(source).not.toContain("'semcache");
  const dir = path.join(root, 'build/readme-edge');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'worker.mjs'), source);
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-readme-edge-'));
  const upstream = await startFakeUpstream();
  const embeddings = await startFakeEmbeddings({ dim: 64 });
  const mf = workerMiniflare({
    script: 'build/readme-edge/worker.mjs',
    durable: true,
    persist,
    bindings: { UPSTREAM_BASE_URL: upstream.url, EMBEDDINGS_URL: embeddings.url, EMBEDDINGS_MODEL: 'toy-bag-of-words', SIMILARITY_THRESHOLD: '0.8', CREDENTIAL_HASH_KEY: 'readme-test-credential-hash-key' },
  });
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const ask = (content: string) => fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content }] }),
    });
    const a = await ask('What is the capital city of France?');
    expect(a.headers.get('x-semcache')).toBe('miss');
    const first = await a.json();
    const b = await ask('so what is the capital city of france');
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect((await b.json()).choices[0].message.content).toBe(first.choices[0].message.content);
    expect(upstream.calls.length).toBe(1);
  } finally {
    await mf.dispose();
    await upstream.close();
    await embeddings.close();
    fs.rmSync(persist, { recursive: true, force: true });
  }
});
