// The shape of js/: its import graph (type-only and dynamic imports included) has no circle, no
// module imports a worker entry (a module whose top level starts serving RPC), and no file is
// longer than ~400 lines.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { root } from './helpers.js';

const MAX_LINES = 400;

function sources(dir = 'js'): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** module -> the js/ modules it imports (static, type-only, re-exports and import()). The wasm
 * glue (js/wasm/*, generated into dist/) is not in js/ and not followed. */
function graph(): Map<string, string[]> {
  const files = new Set(sources());
  const g = new Map<string, string[]>();
  for (const f of files) {
    const info = ts.preProcessFile(fs.readFileSync(path.join(root, f), 'utf8'), true, true);
    const deps = info.importedFiles
      .map((i) => i.fileName)
      .filter((n) => n.startsWith('.'))
      .map((n) => path.posix.normalize(path.posix.join(path.posix.dirname(f), n)).replace(/\.js$/, '.ts'))
      .filter((n) => files.has(n));
    g.set(f, [...new Set(deps)]);
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of g.get(f) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...g.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

it('finds the imports it should (type-only and dynamic included)', () => {
  const g = graph();
  expect(g.get('js/opfs.ts')).toContain('js/api.ts');  // import type
  expect(g.get('js/storage.ts')).toContain('js/opfs.ts');  // import()
  expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
});

it('has no import circle', () => {
  expect(cycles(graph()).map((c) => c.join(' -> '))).toEqual([]);
});

it('imports no worker entry: only the browser starts those, by URL', () => {
  const g = graph();
  const entries = [...g.keys()].filter((f) => /^serveRpc\b/m.test(fs.readFileSync(path.join(root, f), 'utf8')));
  expect(entries.sort()).toEqual(['js/workers/gpt2-worker.ts', 'js/workers/opfs-worker.ts']);
  const importers = [...g].filter(([, deps]) => deps.some((d) => entries.includes(d))).map(([f]) => f);
  expect(importers).toEqual([]);
});

it(`keeps every file in js/ within ~${MAX_LINES} lines`, () => {
  const long = sources()
    .map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8').split('\n').length] as const)
    .filter(([, n]) => n > MAX_LINES + 10);
  expect(long).toEqual([]);
});
