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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fail = (msg) => {
  console.error(`prepack: ${msg}`);
  process.exit(1);
};
const at = (rel) => path.join(root, rel);

// The learned evaluator is committed (models/evaluator): the build installs it, nothing is trained.
const evaluator = 'dist/models/evaluator/model.bin';
// The default encoder (the tuned one); the original USE lite is not packed (size budget).
const MODEL = 'use-lite-cache';

// Its output goes to stderr: `npm pack --json` prints the file list on stdout.
const build = spawnSync(process.execPath, [at('tools/build.mjs'), 'wasm', 'models'], { cwd: root, stdio: ['ignore', 2, 2] });
if (build.status !== 0) fail('the build failed (see above)');

const manifest = JSON.parse(fs.readFileSync(at(`dist/models/${MODEL}/manifest.json`), 'utf8'));
const q8 = manifest.variants?.q8?.file;
if (!q8) fail(`dist/models/${MODEL}/manifest.json lists no q8 variant`);
const needed = [
  'dist/index.js', 'dist/node.js', 'dist/index.d.ts', 'dist/embedders/onnx.js', 'dist/edge/index.js',
  'dist/wasm/semcache_core.mjs', 'dist/wasm/semcache_core.wasm', 'dist/wasm/semcache_core.d.mts',
  'dist/workers/opfs-worker.js', 'dist/workers/gpt2-worker.js',
  `dist/models/${MODEL}/${q8}`, `dist/models/${MODEL}/vocab.json`, evaluator,
];
const missing = needed.filter((f) => !fs.existsSync(at(f)));
if (missing.length) fail(`missing after the build: ${missing.join(', ')}`);
