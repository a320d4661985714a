// The tarball carries what runs and nothing else: every module reachable from package.json's
// exports (static and literal dynamic imports, `new URL('…', import.meta.url)` assets, worker
// scripts), the int8 default encoder its manifest names with its vocab, the evaluator; no
// sources, tests, tools or fp32 model; within the size budget; and publint and
// @arethetypeswrong/cli find no error in it.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { init, parse } from 'es-module-lexer';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumersDir, packed, root, tryRun } from './helpers.js';

const BUDGET_PACKED = 12_000_000;  // bytes: issue 13's "≤ 12 MB packed, model included"
let files: Set<string>;
let unpacked: string;

beforeAll(() => {
  files = new Set(packed().files.map((f) => f.path));
  unpacked = path.join(consumersDir, 'unpacked');
  fs.rmSync(unpacked, { recursive: true, force: true });
  fs.mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', packed().tarball, '-C', unpacked]);
  unpacked = path.join(unpacked, 'package');
});

/** Targets of package.json's exports (wildcards left out), e.g. './dist/node.js'. */
function exportTargets(exp: unknown): string[] {
  if (typeof exp === 'string') return exp.includes('*') ? [] : [exp];
  if (exp && typeof exp === 'object') return Object.values(exp).flatMap(exportTargets);
  return [];
}

/** Files a module refers to by a relative name: imports, literal import()s and new URL(…, import.meta.url). */
async function references(file: string): Promise<string[]> {
  await init;
  const code = fs.readFileSync(file, 'utf8');
  const names = parse(code)[0].map((i) => i.n).filter((n): n is string => !!n && n.startsWith('.'));
  for (const m of code.matchAll(/new URL\(\s*(['"])(\.[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g)) names.push(m[2]!);
  return names.map((n) => path.relative(unpacked, path.resolve(path.dirname(file), n)));
}

describe('the tarball', () => {
  it('stays within the size budget', () => {
    const { size, unpackedSize, entryCount } = packed();
    console.log(`tarball: ${entryCount} files, ${(size / 1e6).toFixed(2)} MB packed, ${(unpackedSize / 1e6).toFixed(2)} MB unpacked`);
    expect(size).toBeLessThanOrEqual(BUDGET_PACKED);
  });

  it('holds every module its exports reach, and nothing unreachable', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8'));
    const entries = exportTargets(pkg.exports).filter((t) => t !== './package.json').map((t) => path.normalize(t));
    const reached = new Set<string>();
    const queue = [...entries];
    const missing: string[] = [];
    while (queue.length) {
      const rel = queue.pop()!;
      if (reached.has(rel)) continue;
      reached.add(rel);
      if (!files.has(rel)) {
        missing.push(rel);
        continue;
      }
      if (/\.m?js$/.test(rel)) queue.push(...(await references(path.join(unpacked, rel))));
    }
    expect(missing).toEqual([]);
    // what nothing reaches: the modules' own .d.ts and source maps, the JS of type-only modules
    // (`export {};`, beside the .d.ts other .d.ts import), package.json, the README
    const typeOnly = (f: string) => /\.js$/.test(f) && fs.readFileSync(path.join(unpacked, f), 'utf8').replace(/^\/\/.*$/gm, '').trim() === 'export {};';
    const extra = [...files].filter((f) => !reached.has(f) && !/\.d\.m?ts$|\.js\.map$|^package\.json$|^README\.md$|^LICENSE$|^NOTICE$/.test(f) && !typeOnly(f));
    expect(extra).toEqual([]);
    // the default encoder, from its manifest: the int8 variant and its vocab; not the fp32 model
    // (the tuned use-lite-cache; the original use-lite is not packed)
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'dist/models/use-lite-cache/manifest.json'), 'utf8'));
    expect(files).toContain(`dist/models/use-lite-cache/${manifest.variants.q8.file}`);
    expect(files).toContain('dist/models/use-lite-cache/vocab.json');
    expect(files).not.toContain(`dist/models/use-lite-cache/${manifest.model.file}`);
    expect([...files].filter((f) => f.startsWith('dist/models/use-lite/'))).toEqual([]);
    expect(files).toContain('dist/models/evaluator/model.bin');
    // the licence, and the notices of the third-party code and weights it ships
    expect(files).toContain('LICENSE');
    expect(files).toContain('NOTICE');
  });

  it('has no sources, tests, tools or repository-only files', () => {
    const forbidden = [...files].filter((f) => /^(src|js|tests|bench|tools|web-demo|workers|bindings|build|docs)\//.test(f) || f.startsWith('dist/edge-onnx/') || /\.stamp$|\.onnx\.data$/.test(f));
    expect(forbidden).toEqual([]);
  });

  it('passes publint with no error', () => {
    const r = tryRun(path.join(root, 'node_modules/.bin/publint'), ['run', packed().tarball, '--level', 'warning'], { cwd: consumersDir });
    console.log(`publint: ${r.stdout.trim()} ${r.stderr.trim()}`);
    expect(r.stdout + r.stderr).not.toMatch(/\bErrors?:/);
    expect(r.status).toBe(0);
  });

  it('passes @arethetypeswrong/cli with no problem', () => {
    // ESM only by design (Node >= 20): the profile leaves out CommonJS require() of it
    const r = tryRun(path.join(root, 'node_modules/.bin/attw'), [packed().tarball, '--profile', 'esm-only', '--format', 'json'], { cwd: consumersDir });
    const report = JSON.parse(r.stdout);
    // the JSON lists every resolution's problems; the profile leaves out node10 and node16-cjs
    const problems = (report.analysis?.problems ?? []).filter((p: { resolutionKind?: string }) => !['node10', 'node16-cjs'].includes(p.resolutionKind ?? ''));
    expect(problems).toEqual([]);
    expect(r.status).toBe(0);
    expect(Object.keys(report.analysis.entrypoints)).toEqual(expect.arrayContaining(['.', './onnx', './edge']));
  });
});
