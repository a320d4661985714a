// semcache in a Node app, installed from the tarball:
//  - the README's Node snippet, in a new directory where `npm install ./semcache-x.tgz` is the
//    only step: the bundled encoder, a paraphrase hit;
//  - the file store (docs/install.md): better-sqlite3 installed and built the way a consumer
//    with no prebuilt binary does it, a miss, then after reopening a paraphrase hit, twice;
//  - `semcache/edge` imported under Node.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devVersion, nodePrefix, npm, packed, project, run, snippet } from './helpers.js';

// Preloaded into each snippet's process: console.log as JSON lines, and the LLM the snippets call.
const HARNESS = `
console.log = (...args) => process.stdout.write('LOG ' + JSON.stringify(args) + '\\n');
globalThis.callMyLLM = async (prompt) => 'LLM answer to ' + prompt;
`;

function logs(stdout: string): unknown[][] {
  return stdout.split('\n').filter((l) => l.startsWith('LOG ')).map((l) => JSON.parse(l.slice(4)));
}

function node(cwd: string, script: string, args: string[] = []) {
  return run(process.execPath, ['--import', './harness.mjs', script, ...args], { cwd });
}

describe('Node, in a new directory with only the tarball', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-fresh-'));
    const tgz = path.basename(packed().tarball);
    fs.copyFileSync(packed().tarball, path.join(dir, tgz));
    const t0 = performance.now();
    npm(dir, ['install', `./${tgz}`]);
    console.log(`fresh npm install of the tarball: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    fs.writeFileSync(path.join(dir, 'harness.mjs'), HARNESS);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the README snippet: the bundled encoder, a paraphrase hit', () => {
    const code = snippet('node');
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(5);
    fs.writeFileSync(path.join(dir, 'index.mjs'), code);
    const out = logs(node(dir, 'index.mjs').stdout);
    expect(out).toHaveLength(1);
    const result = out[0]![0] as { hit: boolean; similarity: number; matchedPrompt: string; answer: string };
    expect(result.hit).toBe(true);
    expect(result.matchedPrompt).toBe('How do I learn Python quickly?');
    expect(typeof result.answer).toBe('string');
    expect(result.similarity).toBeGreaterThan(0.8);
    expect(result.similarity).toBeLessThan(1);
  });

  it('imports semcache/edge under Node without errors', () => {
    const r = run(process.execPath, ['--input-type=module', '-e', "const m = await import('semcache/edge'); console.log(Object.keys(m).sort().join(','));"], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(',')).toEqual(expect.arrayContaining(['createEdgeFetch', 'ShardState', 'DurableObjectStore', 'remoteEmbedder', 'edgeConfig']));
  });
});

describe('Node with the file store', () => {
  let dir: string;
  // a cold install compiles better-sqlite3 (minutes): the hook's timeout, not the test's
  beforeAll(() => {
    dir = project('node', {
      pkg: { dependencies: { 'better-sqlite3': devVersion('better-sqlite3') }, allowScripts: { 'better-sqlite3': true } },
      files: { 'harness.mjs': HARNESS, 'answers.mjs': snippet('node-file') },
      // no prebuilt binary can be downloaded here: compiled against this Node's headers, as
      // docs/install.md tells a consumer without one
      installEnv: { npm_config_build_from_source: 'true', npm_config_nodedir: nodePrefix, npm_config_jobs: 'max' },
    });
  });

  it("keeps answers on disk with storage: 'file' (better-sqlite3 built from source)", () => {
    expect(fs.existsSync(path.join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    fs.rmSync(path.join(dir, 'answers.db'), { force: true });
    const ask = (q: string) => logs(node(dir, 'answers.mjs', [q]).stdout)[0] as [boolean, string];
    expect(ask('How do I learn Python quickly?')).toEqual([false, 'LLM answer to How do I learn Python quickly?']);
    expect(fs.existsSync(path.join(dir, 'answers.db'))).toBe(true);
    // each run opens the file again: the answer comes from disk, for a paraphrase
    expect(ask('How can I learn Python quickly?')).toEqual([true, 'LLM answer to How do I learn Python quickly?']);
    expect(ask('How do I quickly learn Python?')).toEqual([true, 'LLM answer to How do I learn Python quickly?']);
    // a different question, even a close one, is not served the cached answer
    expect(ask('How do I learn Java quickly?')).toEqual([false, 'LLM answer to How do I learn Java quickly?']);
  });
});
