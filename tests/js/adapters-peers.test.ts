// The SDKs are optional peers: `import 'semcache'` (browser, Node and edge entries) must never
// load openai, ai or @langchain/*, and the adapters load only what they say. Walks the built
// modules' import graph (static imports, re-exports and import()) from each entry.
import fs from 'node:fs';
import path from 'node:path';
import { init, parse } from 'es-module-lexer';
import { beforeAll, expect, it } from 'vitest';
import { root } from './helpers.js';

const SDK = /^(openai|ai|@ai-sdk\/.*|@langchain\/.*)(\/|$)/;

/** Every package a module and the modules it imports (transitively, within dist/) import; and
 * how many of our modules that walk read. */
function walk(entry: string): { packages: Set<string>; modules: number } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const [imports] = parse(fs.readFileSync(file, 'utf8'));
    for (const i of imports) {
      const name = i.n;
      if (!name) continue;  // import() of a computed name: none of ours names a package that way
      if (name.startsWith('.')) visit(path.resolve(path.dirname(file), name));
      else packages.add(name);
    }
  };
  visit(path.join(root, 'dist', entry));
  return { packages, modules: seen.size };
}
const packagesOf = (entry: string) => walk(entry).packages;

beforeAll(async () => {
  await init;
});

it('the main entries load none of the SDKs', () => {
  for (const entry of ['index.js', 'node.js', 'edge/index.js']) {
    const { packages, modules } = walk(entry);
    expect(modules).toBeGreaterThan(10);  // the walk follows the entry's imports
    expect([...packages].filter((p) => SDK.test(p))).toEqual([]);
  }
});

it('semcache/openai and semcache/ai-sdk load no SDK at run time; semcache/langchain only @langchain/core', () => {
  expect([...packagesOf('adapters/openai.js')].filter((p) => SDK.test(p))).toEqual([]);
  expect([...packagesOf('adapters/ai-sdk.js')].filter((p) => SDK.test(p))).toEqual([]);
  const lc = [...packagesOf('adapters/langchain.js')].filter((p) => SDK.test(p));
  expect(lc.length).toBeGreaterThan(0);
  expect(lc.every((p) => p.startsWith('@langchain/core/'))).toBe(true);
});

it('declares the SDKs as optional peers and exports each adapter with its types', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const p of ['openai', 'ai', '@langchain/core']) {
    expect(pkg.peerDependencies[p]).toBeDefined();
    expect(pkg.peerDependenciesMeta[p]).toEqual({ optional: true });
    expect(pkg.dependencies?.[p]).toBeUndefined();
  }
  for (const sub of ['openai', 'ai-sdk', 'langchain']) {
    const e = pkg.exports[`./${sub}`];
    expect(fs.existsSync(path.join(root, e.default))).toBe(true);
    expect(fs.existsSync(path.join(root, e.types))).toBe(true);
  }
});
