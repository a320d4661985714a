#!/usr/bin/env node
// `npm pack` / `npm publish` run this first: it builds what the tarball carries and is missing
// or stale (the wasm core, the JS and .d.ts, the converted int8 encoder, the trained evaluator)
// through tools/build.mjs, which skips what is up to date: nothing is retrained or converted
// again when dist/ is current. Then it checks that every file package.json's `files` must
// pick up is there, so a tarball never ships without its model.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED } from '../bench/lib/quality-data.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fail = (msg) => {
  console.error(`prepack: ${msg}`);
  process.exit(1);
};
const at = (rel) => path.join(root, rel);

// Training the evaluator is the one step that reads ../shared (the QQP pairs). Without them it
// can only be packed when the model is already built.
const evaluator = 'dist/models/evaluator/model.bin';
if (!fs.existsSync(path.join(SHARED, 'data/qqp/pairs-dev.jsonl.gz')) && !fs.existsSync(at(evaluator)))
  fail(`${evaluator} is not built and training it needs the project's shared data at ${SHARED} (data/qqp/pairs-dev.jsonl.gz): put it beside the checkout or set SEMCACHE_SHARED_DIR`);

// Its output goes to stderr: `npm pack --json` prints the file list on stdout.
const build = spawnSync(process.execPath, [at('tools/build.mjs'), 'wasm', 'models'], { cwd: root, stdio: ['ignore', 2, 2] });
if (build.status !== 0) fail('the build failed (see above)');

const manifest = JSON.parse(fs.readFileSync(at('dist/models/use-lite/manifest.json'), 'utf8'));
const q8 = manifest.variants?.q8?.file;
if (!q8) fail('dist/models/use-lite/manifest.json lists no q8 variant');
const needed = [
  'dist/index.js', 'dist/node.js', 'dist/index.d.ts', 'dist/embedders/onnx.js', 'dist/edge/index.js',
  'dist/wasm/semcache_core.mjs', 'dist/wasm/semcache_core.wasm', 'dist/wasm/semcache_core.d.mts',
  'dist/workers/opfs-worker.js', 'dist/workers/gpt2-worker.js',
  `dist/models/use-lite/${q8}`, 'dist/models/use-lite/vocab.json', evaluator,
];
const missing = needed.filter((f) => !fs.existsSync(at(f)));
if (missing.length) fail(`missing after the build: ${missing.join(', ')}`);
