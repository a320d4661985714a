// The README's snippets must work as written: the Node usage example (with its two placeholders
// defined) runs in Node; the edge worker snippet runs in workerd (Miniflare), its package imports
// pointed at this repository's dist/ as a consumer's bundler would resolve them. The
// snippet of each SDK adapter runs as a module against the fake upstream (the SDKs read
// OPENAI_BASE_URL and OPENAI_API_KEY).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('the README adapter snippets', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  const dir = path.join(root, 'build/snippets');
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    process.env.OPENAI_BASE_URL = `${upstream.url}/v1`;
    process.env.OPENAI_API_KEY = 'sk-snippet-test';
    fs.mkdirSync(dir, { recursive: true });
  });
  afterAll(async () => {
    delete process.env.OPENAI_BASE_URL;
    delete process.env.OPENAI_API_KEY;
    await upstream?.close();
  });

  for (const [file, name] of ['README.md'].flatMap((f) => ['openai', 'ai-sdk', 'langchain'].map((n) => [f, n] as const))) {
    it(`runs the ${name} snippet of ${file}: the paraphrase is answered from the cache`, async () => {
      const doc = fs.readFileSync(path.join(root, file), 'utf8');
      const code = new RegExp(`<!-- consumer: ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];
      expect(code).toBeDefined();
      expect(code!.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(12);  // short
      const logs: unknown[][] = [];
      (globalThis as { __snippetLogs?: unknown[][] }).__snippetLogs = logs;
      // inside the repository, so that 'semcache' resolves to this package and the SDKs to node_modules
      const script = path.join(dir, `${path.basename(file, '.md')}-${name}.mjs`);
      fs.writeFileSync(script, `const console = { log: (...a) => globalThis.__snippetLogs.push(a) };\n${code}`);
      const calls = upstream.calls.length;
      await import(`${script}?t=${Date.now()}`);
      expect(upstream.calls.length - calls).toBe(1);
      expect(logs).toHaveLength(2);
      expect(logs[1]![0]).toBe(logs[0]![0]);
      expect(String(logs[0]![0])).toMatch(/^Answer #30 from gpt-4o-mini\.$/);
    });
  }
});
