// Writes a small BERT-shaped ONNX model with seeded random weights (the inputs and output of a
// Hugging Face BERT export: input_ids / attention_mask / token_type_ids -> last_hidden_state),
// for tests of the "load a model from a URL" path without downloading a real one.
//   node tools/make-tiny-bert.mjs OUT.onnx [--vocab 30522] [--hidden 32]
import fs from 'node:fs';
import { OnnxGraph } from './convert-use/onnx-builder.mjs';

export function tinyBert({ vocab = 30522, hidden = 32, maxPositions = 512, seed = 7 } = {}) {
  let s = seed >>> 0;
  const rand = (n, scale) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = ((s / 4294967296) * 2 - 1) * scale;
    }
    return a;
  };
  const g = new OnnxGraph('tiny-bert');
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const types = g.input('token_type_ids', 'int64', ['batch', 'seq']);
  const word = g.init('word_embeddings', 'float32', [vocab, hidden], rand(vocab * hidden, 1));
  const pos = g.init('position_embeddings', 'float32', [maxPositions, hidden], rand(maxPositions * hidden, 0.5));
  const typ = g.init('token_type_embeddings', 'float32', [2, hidden], rand(2 * hidden, 0.5));
  // positions 0..seq-1 from the shape of input_ids
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.const('int64', [], [1])], { axis: 0 });
  const positions = g.op('Range', [g.const('int64', [], [0]), seqLen, g.const('int64', [], [1])]);
  let x = g.op('Add', [g.op('Gather', [word, ids]), g.op('Gather', [typ, types])]);
  x = g.op('Add', [x, g.op('Gather', [pos, positions])]);
  x = g.op('LayerNormalization', [x, g.init('ln_scale', 'float32', [hidden], rand(hidden, 1)), g.init('ln_bias', 'float32', [hidden], rand(hidden, 0.1))], { axis: -1, epsilon: 1e-12 });
  // x is (B, T, H), w is (H, H)
  x = g.op('Tanh', [g.op('Add', [g.op('MatMul', [x, g.init('dense_w', 'float32', [hidden, hidden], rand(hidden * hidden, 0.3))]), g.init('dense_b', 'float32', [hidden], rand(hidden, 0.1))])]);
  // padding positions carry zeros, as a real encoder's outputs there are ignored anyway
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.i64(-1)]);
  g.op('Mul', [x, m], {}, ['last_hidden_state']);
  g.output('last_hidden_state', 'float32', ['batch', 'seq', hidden]);
  return g.encode({ opset: 17, producer: 'semcache tools/make-tiny-bert', producerVersion: '1' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node tools/make-tiny-bert.mjs OUT.onnx [--vocab N] [--hidden N]');
    process.exit(2);
  }
  const arg = (k, d) => {
    const i = process.argv.indexOf(k);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  fs.writeFileSync(out, tinyBert({ vocab: arg('--vocab', 30522), hidden: arg('--hidden', 32) }));
}
