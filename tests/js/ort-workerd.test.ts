// Measures whether ONNX Runtime Web (the runtime of the project's ONNX embedder) runs in workerd
// and what it costs in memory. No sentence-embedding model is available here, so the models are
// generated: a tiny MatMul (correctness) and one with 30 MB of fp32 weights, the size of USE lite
// (memory). Prints the measurements; README "Deploying to the edge" quotes them.
import fs from 'node:fs';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { expect, it } from 'vitest';
import { root } from './helpers.js';
import { workerdRssMB } from './miniflare.mjs';
import { collectModules } from '../../tools/modules.mjs';
import { OnnxGraph } from '../../tools/convert-use/onnx-builder.mjs';

const ortDist = path.join(root, 'node_modules/onnxruntime-web/dist');
const fixtures = path.join(root, 'tests/js/fixtures/ort-workerd');

/** An ONNX model y = x W, x (1, n), W (n, m) with W[i][j] = (i == j) + (i == n-1) (the project's ONNX writer). */
function matmulModel(n: number, m: number): Uint8Array {
  const w = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) w[i * m + j] = (i === j ? 1 : 0) + (i === n - 1 ? 1 : 0);
  const g = new OnnxGraph('g');
  const x = g.input('x', 'float32', [1, n]);
  g.op('MatMul', [x, g.init('W', 'float32', [n, m], w)], {}, ['y']);
  g.output('y', 'float32', [1, m]);
  return g.encode({ opset: 13, producer: 'semcache tests/js/ort-workerd', producerVersion: '1' });
}

async function runInWorkerd(n: number, m: number, lean = false, model?: { bytes: Buffer; ids: number[] }) {
  // The fixture imports the edge worker's ORT shim and glue wrapper (workers/edge/ort-*.mjs);
  // its model.onnx is generated here.
  const modules = collectModules(path.join(fixtures, 'worker.mjs')).map((mod: { type: string; path: string }) =>
    mod.path.endsWith('model.onnx') ? { ...mod, contents: model?.bytes ?? matmulModel(n, m) } : mod,
  );
  const mf = new Miniflare({ modules, modulesRoot: root, compatibilityDate: '2025-01-01' });
  try {
    await mf.ready;
    const before = workerdRssMB();
    const res = await mf.dispatchFetch(`http://localhost/?n=${n}${lean ? '&lean=1' : ''}${model ? `&ids=${model.ids.join(',')}` : ''}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return { ...JSON.parse(text), rssBeforeMB: Math.round(before), rssAfterMB: Math.round(workerdRssMB()) };
  } finally {
    await mf.dispose();
  }
}

it('runs ONNX Runtime Web in workerd with the .wasm imported as a module', async () => {
  const r = await runInWorkerd(4, 3);
  // x = [1, 2, 3, 4]; W = I (3 columns) plus a row of ones: y = [1 + 4, 2 + 4, 3 + 4].
  expect(r.y).toEqual([5, 6, 7]);
  expect(r.wasmHeapBytes).toBeGreaterThan(0);
  console.log(`ort-workerd tiny model: ${JSON.stringify(r)}`);
});

it('measures the memory of a model with 30 MB of weights (USE lite size) in workerd', async () => {
  const n = 512, m = 14_700;  // 512 x 14,700 fp32 = 30.1 MB
  for (const lean of [false, true]) {
    const r = await runInWorkerd(n, m, lean);
    expect(r.y).toEqual([1 + n, 2 + n, 3 + n, 4 + n]);
    console.log(`ort-workerd 30 MB model${lean ? ' (no arena, no mem pattern, no graph optimization)' : ''}: ${JSON.stringify(r)}`);
  }
});

it('runs the bundled int8 USE lite in workerd: same embedding as in Node, and what it costs in memory', async () => {
  const dir = path.join(root, 'dist/models/use-lite');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const bytes = fs.readFileSync(path.join(dir, manifest.variants.q8.file));
  const ids = [5, 60, 23, 100, 400, 22, 9, 1000, 7000, 33, 44, 55];
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = ortDist + '/';
  ort.env.wasm.numThreads = 1;
  const s = await ort.InferenceSession.create(bytes);
  const feeds = { input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]), lengths: new ort.Tensor('int32', Int32Array.of(ids.length), [1]) };
  const inNode = Array.from((await s.run(feeds)).embeddings!.data as Float32Array);
  await s.release();
  const r = await runInWorkerd(0, 0, false, { bytes, ids });
  expect(r.embedding).toHaveLength(512);
  expect(Math.max(...r.embedding.map((x: number, i: number) => Math.abs(x - inNode[i]!)))).toBeLessThan(1e-5);
  const { embedding: _, ...mem } = r;
  console.log(`ort-workerd USE lite q8 (${(bytes.length / 2 ** 20).toFixed(1)} MiB): ${JSON.stringify(mem)}`);
});
