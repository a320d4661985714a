// Weight-only int8 quantization of a converted model, for ONNX Runtime Web's wasm backend:
//  - MatMul / Gemm with a constant 2-D weight  -> com.microsoft DynamicQuantizeMatMul
//  - com.microsoft Attention                    -> DynamicQuantizeLinear + QAttention
//  - Gather from a constant 2-D table           -> Gather(int8 rows) * Gather(row scales)
// Weights are symmetric int8 with one scale per output column (per row for tables), so no
// zero-point arithmetic; activations are quantized per run by ORT (uint8, per tensor). Why:
// at one sentence (T ~ 12) the encoder is a handful of skinny GEMMs, and MLAS's wasm int8
// kernels do twice the multiply-adds per instruction of its f32 ones; the file shrinks 4x too.
// The graph's inputs, outputs and every other node stay as they are.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT8 = onnx.TensorProto.DataType.INT8;
const INT64 = onnx.TensorProto.DataType.INT64;

function floatsOf(t) {
  if (t.dataType !== FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.floatData?.length) return Float32Array.from(t.floatData);
  const b = t.rawData;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const tensor = (name, dataType, dims, typed) =>
  onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) });

// w is (K, N) row-major; scales per column (axis 1) or per row (axis 0).
export function quantizeInt8(w, K, N, axis) {
  const groups = axis === 1 ? N : K;
  const scale = new Float32Array(groups);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) {
      const g = axis === 1 ? n : k, a = Math.abs(w[k * N + n]);
      if (a > scale[g]) scale[g] = a;
    }
  for (let g = 0; g < groups; g++) scale[g] = scale[g] > 0 ? scale[g] / 127 : 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(w[k * N + n] / scale[axis === 1 ? n : k])));
  return { q, scale };
}

/** Returns the int8 model's bytes and what was quantized. */
export function quantizeModel(bytes) {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const is2d = (name) => inits.get(name)?.dims.length === 2;
  const added = [], replaced = new Set(), done = { matmul: 0, attention: 0, gather: 0 };

  // One quantized copy per weight, shared by every node that reads it.
  const cache = new Map();
  function weight(name, axis) {
    const key = `${name}|${axis}`;
    if (cache.has(key)) return cache.get(key);
    const t = inits.get(name);
    const [K, N] = t.dims.map(Number);
    const { q, scale } = quantizeInt8(floatsOf(t), K, N, axis);
    const names = { q: `${name}.q8`, scale: `${name}.scale`, zero: `${name}.zero` };
    added.push(tensor(names.q, INT8, [K, N], q), tensor(names.scale, FLOAT, [scale.length], scale));
    // DynamicQuantizeMatMul and QAttention want B's zero point given (all zeros: symmetric)
    if (axis === 1) added.push(tensor(names.zero, INT8, [scale.length], new Int8Array(scale.length)));
    replaced.add(name);
    cache.set(key, names);
    return names;
  }

  const nodes = [];
  for (const n of g.node) {
    const ms = n.domain === 'com.microsoft';
    const attrs = new Map(n.attribute.map((a) => [a.name, a]));
    const plainGemm = n.opType === 'Gemm' && ['transA', 'transB'].every((k) => !Number(attrs.get(k)?.i ?? 0)) &&
      ['alpha', 'beta'].every((k) => (attrs.get(k)?.f ?? 1) === 1) && (!n.input[2] || inits.get(n.input[2])?.dims.length === 1);
    if (!ms && (n.opType === 'MatMul' || plainGemm) && is2d(n.input[1])) {
      const w = weight(n.input[1], 1);
      nodes.push(onnx.NodeProto.create({
        name: n.name, opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', output: n.output,
        input: [n.input[0], w.q, w.scale, w.zero, ...(n.input[2] ? [n.input[2]] : [])],
      }));
      done.matmul++;
    } else if (ms && n.opType === 'Attention' && is2d(n.input[1]) && n.input.length <= 4) {
      const w = weight(n.input[1], 1), x = n.input[0];
      const xq = [`${n.name}.x.q8`, `${n.name}.x.scale`, `${n.name}.x.zero`];
      nodes.push(onnx.NodeProto.create({ name: `${n.name}.quantize`, opType: 'DynamicQuantizeLinear', input: [x], output: xq }));
      nodes.push(onnx.NodeProto.create({
        name: n.name, opType: 'QAttention', domain: 'com.microsoft', output: n.output, attribute: n.attribute,
        input: [xq[0], w.q, n.input[2] ?? '', xq[1], w.scale, n.input[3] ?? '', xq[2], w.zero],
      }));
      done.attention++;
    } else if (!ms && n.opType === 'Gather' && is2d(n.input[0]) && Number(attrs.get('axis')?.i ?? 0) === 0) {
      const w = weight(n.input[0], 0), ids = n.input[1], out = n.output[0];
      const axes = `${n.name}.axes`;
      added.push(tensor(axes, INT64, [1], BigInt64Array.of(-1n)));
      nodes.push(onnx.NodeProto.create({ name: `${n.name}.rows`, opType: 'Gather', input: [w.q, ids], output: [`${out}.q8`] }));
      nodes.push(onnx.NodeProto.create({ name: `${n.name}.cast`, opType: 'Cast', input: [`${out}.q8`], output: [`${out}.f32`], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] }));
      nodes.push(onnx.NodeProto.create({ name: `${n.name}.scales`, opType: 'Gather', input: [w.scale, ids], output: [`${out}.scale`] }));
      nodes.push(onnx.NodeProto.create({ name: `${n.name}.unsqueeze`, opType: 'Unsqueeze', input: [`${out}.scale`, axes], output: [`${out}.scale1`] }));
      nodes.push(onnx.NodeProto.create({ name: n.name, opType: 'Mul', input: [`${out}.f32`, `${out}.scale1`], output: [out] }));
      done.gather++;
    } else {
      nodes.push(n);
    }
  }
  const stillRead = new Set(nodes.flatMap((n) => n.input));
  g.node = nodes;
  g.initializer = [...g.initializer.filter((t) => !replaced.has(t.name) || stillRead.has(t.name)), ...added];
  if (!m.opsetImport.some((o) => o.domain === 'com.microsoft')) m.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return { bytes: onnx.ModelProto.encode(m).finish(), quantized: done };
}
