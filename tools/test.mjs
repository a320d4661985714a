#!/usr/bin/env node
// Runs every test suite: ctest (the C++ suite, native and wasm), then Vitest (JS against the wasm
// build), then the consumer suite (the packed tarball installed into fresh projects).
// Ends with one line `N passed, N failed` summing all runners; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'test-output');
fs.mkdirSync(out, { recursive: true });

const build = spawnSync(process.execPath, [path.join(root, 'tools/build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let broken = false;

// ctest, natively and in wasm (the same GoogleTest suite compiled with Emscripten, run under
// Node): parse "N% tests passed, F tests failed out of T".
for (const tree of ['build/native', 'build/wasm']) {
  const ctest = spawnSync('ctest', ['--output-on-failure', '-j', '2', '--timeout', '600'], {
    cwd: path.join(root, tree),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(ctest.stdout ?? '');
  const m = /tests passed, (\d+) tests failed out of (\d+)/.exec(ctest.stdout ?? '');
  if (m) {
    failed += Number(m[1]);
    passed += Number(m[2]) - Number(m[1]);
  } else {
    broken = true;
  }
  if (ctest.status !== 0 && !(m && Number(m[1]) > 0)) broken = true;
}

// Vitest: read its JSON report for the counts.
function vitest(name, args) {
  const report = path.join(out, `${name}.json`);
  fs.rmSync(report, { force: true });
  const t0 = performance.now();
  const run = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
    { cwd: root, stdio: 'inherit' },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    if (r.numTotalTests === 0 || (run.status !== 0 && r.numFailedTests === 0)) broken = true;
  } else {
    broken = true;
  }
  return seconds;
}

const extra = process.argv.slice(2);
vitest('vitest', extra);
// The consumer suite (tests/consumers): the packed tarball in fresh Node, Vite, worker and
// TypeScript projects. Skipped when arguments pick tests of the main suite.
if (!extra.length) {
  const seconds = vitest('consumers', ['--config', 'tests/consumers/vitest.config.ts']);
  console.log(`consumer suite: ${seconds.toFixed(0)} s`);
}

if (broken) failed = Math.max(failed, 1);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
