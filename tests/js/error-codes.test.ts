// SemcacheErrorCode is closed: ERROR_CODES documents every code once. This scans the sources for
// the codes they throw (js/: SemcacheError constructions, error payloads, HTTP errors; src/ and
// bindings/: the core's code constants and any literal code) and fails on a code missing there,
// and on a documented code that nothing throws.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ERROR_CODES, SemcacheError, isErrorCode } from 'semcache';
import { root } from './helpers.js';

const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(rel, ext));
    else if (ext.test(e.name)) out.push(rel);
  }
  return out;
}

/** code -> files where it is thrown or sent. */
function scan(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (code: string, file: string) => {
    if (!CODE.test(code)) return;
    if (!found.has(code)) found.set(code, new Set());
    found.get(code)!.add(file);
  };
  const literals = (expr: string, quote: string) => [...expr.matchAll(new RegExp(`${quote}([A-Z][A-Z0-9_]*)${quote}`, 'g'))].map((m) => m[1]!);
  for (const f of filesUnder('js', /\.ts$/)) {
    const s = fs.readFileSync(path.join(root, f), 'utf8');
    // new SemcacheError(CODE, …) and helpers named semcacheError: every literal in the first argument (ternaries too)
    for (const m of s.matchAll(/(?:SemcacheError|semcacheError)\(\s*([^,]+),/g)) for (const c of literals(m[1]!, "'")) add(c, f);
    // error payloads: `code: 'X'`, `const code = … ? 'X' : 'Y'` (not comparisons)
    for (const m of s.matchAll(/\bcode\s*(?::|=(?!=))\s*([^;\n]+)/g)) for (const c of literals(m[1]!, "'")) add(c, f);
    // the HTTP handler's error(status, message, code)
    for (const m of s.matchAll(/\berror\(\s*\d{3},[^\n]*'([A-Z][A-Z0-9_]+)'\)/g)) add(m[1]!, f);
  }
  for (const f of [...filesUnder('src', /\.(h|cpp|inc)$/), ...filesUnder('bindings', /\.(h|cpp)$/)]) {
    const s = fs.readFileSync(path.join(root, f), 'utf8');
    // code constants (src/common/error.h's list, and any a module defines for itself)
    for (const m of s.matchAll(/const\s+char\s*\*\s*\w+\s*=\s*"([A-Z][A-Z0-9_]*)"/g)) add(m[1]!, f);
    // literal codes thrown or handed to JS
    for (const m of s.matchAll(/\b(?:Error|throwJs)\(\s*"([A-Z][A-Z0-9_]*)"/g)) add(m[1]!, f);
    for (const m of s.matchAll(/\bcode\s*=\s*"([A-Z][A-Z0-9_]*)"/g)) add(m[1]!, f);
  }
  return found;
}

it('every code thrown in js/, src/ and bindings/ is documented in ERROR_CODES, and every documented one is thrown', () => {
  const found = scan();
  // The scan sees both layers (a regex that stopped matching would pass vacuously).
  for (const c of ['INVALID_ARGUMENT', 'QUOTA_EXCEEDED', 'WORKER_DIED', 'CONTEXT_FULL', 'CORRUPT_MODEL', 'OUT_OF_MEMORY', 'UPSTREAM_FAILED']) {
    expect(found.has(c), `the scan finds ${c}`).toBe(true);
  }
  const undocumented = [...found].filter(([c]) => !isErrorCode(c)).map(([c, where]) => `${c} (${[...where].join(', ')})`);
  expect(undocumented, 'codes thrown but missing from ERROR_CODES (js/errors.ts)').toEqual([]);
  const unused = Object.keys(ERROR_CODES).filter((c) => !found.has(c));
  expect(unused, 'documented codes that nothing throws').toEqual([]);
  for (const [code, doc] of Object.entries(ERROR_CODES)) expect(doc.length, code).toBeGreaterThan(20);
});

it('a code that crossed a boundary keeps its name only when it is a known one', async () => {
  const { decodeError } = await import('../../dist/rpc.js');
  expect(decodeError({ code: 'QUOTA_EXCEEDED', message: 'full' })).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'full' });
  const odd = decodeError({ code: 'ENOSPC', message: 'no space' });
  expect(odd).toBeInstanceOf(SemcacheError);
  expect(odd).toMatchObject({ code: 'INTERNAL', message: 'ENOSPC: no space' });
});
