// The README's usage example must work as written (with its two placeholders defined), and so
// must docs/adapters.md's snippet of each SDK adapter, run as a module against the fake upstream
// (the SDKs read OPENAI_BASE_URL and OPENAI_API_KEY).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { root, toyVector } from './helpers.js';

it('runs the README usage example', async () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
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

describe('docs/adapters.md snippets', () => {
  let upstream: FakeUpstream;
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

  const doc = () => fs.readFileSync(path.join(root, 'docs/adapters.md'), 'utf8');
  for (const name of ['openai', 'ai-sdk', 'langchain']) {
    it(`runs the ${name} snippet: the paraphrase is answered from the cache`, async () => {
      const code = new RegExp(`<!-- consumer: ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(doc())?.[1];
      expect(code).toBeDefined();
      expect(code!.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(12);  // short
      const logs: unknown[][] = [];
      (globalThis as { __snippetLogs?: unknown[][] }).__snippetLogs = logs;
      // inside the repository, so that 'semcache' resolves to this package and the SDKs to node_modules
      const file = path.join(dir, `${name}.mjs`);
      fs.writeFileSync(file, `const console = { log: (...a) => globalThis.__snippetLogs.push(a) };\n${code}`);
      const calls = upstream.calls.length;
      await import(`${file}?t=${Date.now()}`);
      expect(upstream.calls.length - calls).toBe(1);
      expect(logs).toHaveLength(2);
      expect(logs[1]![0]).toBe(logs[0]![0]);
      expect(String(logs[0]![0])).toMatch(/^Answer #30 from gpt-4o-mini\.$/);
    });
  }
});
