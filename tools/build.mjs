#!/usr/bin/env node
// Builds everything into build/ (native: library, tests, benchmarks) and dist/ (wasm + JS).
//   node tools/build.mjs            all
//   node tools/build.mjs native     the native tree only (ctest, native benchmarks)
//   node tools/build.mjs wasm       the wasm module and wasm benchmarks, then the TypeScript
//   node tools/build.mjs js         the TypeScript only
//   node tools/build.mjs models     the converted embedding models and the trained evaluator (dist/models)
//   node tools/build.mjs edge       the edge worker with its embedder, staged for upload (dist/edge-onnx)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const what = new Set(process.argv.slice(2));
const all = what.size === 0;
const jobs = String(Math.max(1, Math.min(4, (await import('node:os')).cpus().length)));
// emcc (Debian 3.1.6) needs acorn from Debian's node modules.
const env = { ...process.env, NODE_PATH: ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':') };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.status !== 0) {
    console.error(`build: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function configured(dir) {
  return fs.existsSync(path.join(root, dir, 'CMakeCache.txt'));
}

if (all || what.has('native')) {
  if (!configured('build/native')) run('cmake', ['-S', '.', '-B', 'build/native', '-DCMAKE_BUILD_TYPE=Release']);
  run('cmake', ['--build', 'build/native', '-j', jobs]);
}
if (all || what.has('wasm')) {
  if (!configured('build/wasm')) run('emcmake', ['cmake', '-S', '.', '-B', 'build/wasm', '-DCMAKE_BUILD_TYPE=Release']);
  run('cmake', ['--build', 'build/wasm', '-j', jobs]);
}
if (all || what.has('models')) {
  // Build-time model conversion (USE lite TF.js -> ONNX, and the tuned copy from models/); skips
  // itself when up to date. Nothing is trained here but the small evaluator below: the tuned
  // weights are committed (npm run retrain makes them).
  run(process.execPath, [path.join(root, 'tools/convert-use/convert.mjs'), '--model', 'all']);
}
if (all || what.has('wasm') || what.has('js')) {
  // The .d.ts of the Embind module sits next to the glue so TypeScript (rootDirs) and users see it.
  fs.mkdirSync(path.join(root, 'dist/wasm'), { recursive: true });
  for (const f of fs.readdirSync(path.join(root, 'bindings')).filter((f) => f.endsWith('.d.ts'))) {
    const to = f === 'semcache_core.d.ts' ? 'semcache_core.d.mts' : f;
    fs.copyFileSync(path.join(root, 'bindings', f), path.join(root, 'dist/wasm', to));
  }
  // Incremental (a no-op run takes a third of a full one): its state lives in dist/, and is
  // dropped when an output is missing, which tsc would not notice.
  const buildInfo = path.join(root, 'dist/.tsbuildinfo');
  const sources = fs.readdirSync(path.join(root, 'js'), { recursive: true }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  if (sources.some((f) => !fs.existsSync(path.join(root, 'dist', f.replace(/\.ts$/, '.js'))))) fs.rmSync(buildInfo, { force: true });
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', '.', '--incremental', '--tsBuildInfoFile', buildInfo]);
  // tsc never deletes: the outputs of a source removed since the last build would ship in the
  // tarball (dist/ is what `files` packs), so drop every emitted file whose js/*.ts is gone.
  const sourceSet = new Set(sources.map((f) => f.replace(/\.ts$/, '')));
  for (const dir of fs.readdirSync(path.join(root, 'js'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).concat([''])) {
    const at = path.join(root, 'dist', dir);
    if (!fs.existsSync(at)) continue;
    for (const f of fs.readdirSync(at)) {
      const m = /^(.*)\.(?:js|d\.ts)(?:\.map)?$/.exec(f);
      if (m && !sourceSet.has(path.join(dir, m[1])) && !fs.existsSync(path.join(root, 'js', dir, `${m[1]}.d.ts`))) fs.rmSync(path.join(at, f));
    }
  }
}
if (all || what.has('models')) {
  // The 'learned' evaluator's model (dist/models/evaluator/model.bin): trained on the QQP train
  // part through the wasm core and the default (tuned) encoder, committed under models/evaluator
  // (`npm run retrain:evaluator`: from a cold build/embed-cache it embeds ~64k sentences first).
  // The build installs it after checking it against its manifest and the trainer's inputs.
  run(process.execPath, [path.join(root, 'tools/train-evaluator.mjs'), '--install']);
}
if (all || what.has('edge')) {
  // The edge worker with the bundled encoder inside: its modules (the wasm core, the JS, ONNX
  // Runtime, the int8 model) copied into one tree that wrangler.onnx.toml uploads as it is.
  run(process.execPath, [path.join(root, 'tools/stage-edge-onnx.mjs')]);
}
