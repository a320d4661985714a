// The README's usage example must work as written (with its two placeholders defined).
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
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
