// A small graph builder on top of ONNX's own protobuf schema (npm `onnx-proto`,
// generated from onnx.proto of ONNX 1.10). Nodes are added in topological order;
// names are deterministic, so the same calls give byte-identical models.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

const ELEM = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

function rawBytes(data) {
  if (data instanceof BigInt64Array || data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array)
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new Error('tensor data must be a typed array');
}

function attr(name, v) {
  const A = onnx.AttributeProto.AttributeType;
  if (Number.isInteger(v)) return { name, type: A.INT, i: v };
  if (typeof v === 'number') return { name, type: A.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: A.STRING, s: Buffer.from(v) };
  if (Array.isArray(v) && v.every(Number.isInteger)) return { name, type: A.INTS, ints: v };
  if (Array.isArray(v)) return { name, type: A.FLOATS, floats: v };
  if (v && v.tensor) return { name, type: A.TENSOR, t: v.tensor };
  throw new Error(`attribute ${name}: unsupported value ${v}`);
}

export class OnnxGraph {
  constructor(name) {
    this.name = name;
    this.nodes = [];
    this.initializers = [];
    this.inputs = [];
    this.outputs = [];
    this.counter = 0;
    this.constCache = new Map();
  }

  // Graph input/output: dims are numbers or symbolic names ('batch').
  input(name, dtype, dims) { this.inputs.push(valueInfo(name, dtype, dims)); return name; }
  output(name, dtype, dims) { this.outputs.push(valueInfo(name, dtype, dims)); return name; }

  // A named initializer (weights). data is a typed array matching dtype.
  init(name, dtype, dims, data) {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.initializers.push({ name, dataType: ELEM[dtype], dims, rawData: rawBytes(data) });
    return name;
  }

  // Small constants (shapes, axes, scalars), shared by value.
  const(dtype, dims, values) {
    const key = `${dtype}|${dims}|${values}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = `const_${this.constCache.size}`;
    const Arr = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array }[dtype];
    const data = dtype === 'int64' ? BigInt64Array.from(values.map(BigInt)) : Arr.from(values);
    this.init(name, dtype, dims, data);
    this.constCache.set(key, name);
    return name;
  }
  i64(...v) { return this.const('int64', [v.length], v); }
  f32(v) { return this.const('float32', [], [v]); }

  // Adds a node; returns its output name(s). outs: number of outputs or explicit names.
  op(opType, inputs, attrs = {}, outs = 1, prefix, domain = '') {
    const id = this.counter++;
    const base = `${prefix || opType}_${id}`;
    const outputs = typeof outs === 'number'
      ? Array.from({ length: outs }, (_, i) => (outs === 1 ? base : `${base}:${i}`))
      : outs;
    this.nodes.push({
      name: base, opType, domain, input: inputs, output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    });
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  // Contrib op of ONNX Runtime (domain com.microsoft, opset 1).
  msOp(opType, inputs, attrs = {}, outs = 1, prefix) {
    this.usesMs = true;
    return this.op(opType, inputs, attrs, outs, prefix, 'com.microsoft');
  }

  // Serialises to bytes: IR version 8, default-domain opset `opset`.
  encode({ opset, producer, producerVersion, docString, metadata = {} }) {
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }, ...(this.usesMs ? [{ domain: 'com.microsoft', version: 1 }] : [])],
      producerName: producer,
      producerVersion,
      docString,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value: String(value) })),
    };
    const err = onnx.ModelProto.verify(model);
    if (err) throw new Error(`ONNX model does not match the schema: ${err}`);
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }
}

function valueInfo(name, dtype, dims) {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

// Decodes a model (for tests and tooling that inspect what was written).
export function decodeModel(bytes) {
  return onnx.ModelProto.decode(bytes);
}
