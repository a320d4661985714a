// Reads a TF.js graph model (model.json + weight shards) without TF.js itself:
// the converter only needs the node list and the raw weights, and this keeps
// conversion fast (no kernel registration, no backend).
import fs from 'node:fs';
import path from 'node:path';

const DTYPES = {
  float32: { bytes: 4, Array: Float32Array },
  int32: { bytes: 4, Array: Int32Array },
  bool: { bytes: 1, Array: Uint8Array },
};

// Returns { nodes: Map(name -> node), weights: Map(name -> {dtype, shape, data}), files }.
// files lists every source file read (for checksums / up-to-date checks).
export function readTfjsGraphModel(dir) {
  const modelPath = path.join(dir, 'model.json');
  const mj = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  if (!mj.modelTopology || !Array.isArray(mj.modelTopology.node) || !Array.isArray(mj.weightsManifest))
    throw new Error(`${modelPath}: not a TF.js graph model (no modelTopology.node / weightsManifest)`);
  const nodes = new Map();
  for (const n of mj.modelTopology.node) nodes.set(n.name, n);
  const weights = new Map();
  const files = [modelPath];
  for (const group of mj.weightsManifest) {
    const bufs = group.paths.map((p) => { files.push(path.join(dir, p)); return fs.readFileSync(path.join(dir, p)); });
    const buf = Buffer.concat(bufs);
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`weight ${w.name}: quantized weights are not supported`);
      const dt = DTYPES[w.dtype];
      if (!dt) throw new Error(`weight ${w.name}: unsupported dtype ${w.dtype}`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const nbytes = count * dt.bytes;
      if (off + nbytes > buf.length) throw new Error(`weight ${w.name}: shards end before its data (${off + nbytes} > ${buf.length})`);
      // copy so the typed array is aligned and owns its memory
      const data = new dt.Array(count);
      new Uint8Array(data.buffer).set(buf.subarray(off, off + nbytes));
      weights.set(w.name, { dtype: w.dtype, shape: w.shape.slice(), data });
      off += nbytes;
    }
    if (off !== buf.length) throw new Error(`weights group ${group.paths.join(',')}: ${buf.length - off} trailing bytes`);
  }
  return { nodes, weights, files };
}

// A weight that must exist with the given shape; returns its typed array.
export function weight(model, name, shape) {
  const w = model.weights.get(name);
  if (!w) throw new Error(`weight missing from the TF.js model: ${name}`);
  if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])))
    throw new Error(`weight ${name}: shape [${w.shape}] but the converter expects [${shape}]`);
  return w.data;
}

// A scalar constant (weights of shape [] or [1]).
export function scalar(model, name) {
  const w = model.weights.get(name);
  if (!w) throw new Error(`constant missing from the TF.js model: ${name}`);
  if (w.data.length !== 1) throw new Error(`constant ${name}: expected a scalar, got shape [${w.shape}]`);
  return w.data[0];
}

// Asserts that node `name` exists with op `op` and (optionally) exactly these inputs.
export function expectNode(model, name, op, inputs) {
  const n = model.nodes.get(name);
  if (!n) throw new Error(`TF.js graph has no node ${name} (the converter expects a ${op})`);
  if (n.op !== op) throw new Error(`TF.js node ${name}: op ${n.op}, expected ${op}`);
  if (inputs) {
    const got = n.input || [];
    if (got.length !== inputs.length || got.some((x, i) => x !== inputs[i]))
      throw new Error(`TF.js node ${name}: inputs [${got.join(', ')}], expected [${inputs.join(', ')}]`);
  }
  return n;
}

export function opHistogram(model) {
  const h = {};
  for (const n of model.nodes.values()) h[n.op] = (h[n.op] || 0) + 1;
  return h;
}
