// The GPT-2 model through the wasm bindings: reference logits, greedy continuation with and
// without the KV cache, seeded sampling equal across paths, the native RNG stream, load errors.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, loadModel, sharedDir } from './gpt2_wasm.mjs';

const dir = path.join(sharedDir, 'models/brown-gpt2');
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
const configJson = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'));

let core, model;
beforeAll(async () => {
  core = await loadCore();
  model = loadModel(core, bytes, configJson, 'f32');
});

function run(m, n, options, seed) {
  m.setSeed(seed);
  m.prefill(ref.prompt_ids);
  const out = [];
  for (let i = 0; i < n; i++) out.push(m.generateOne(options));
  return out;
}

describe('GPT-2 in wasm', () => {
  it('matches reference.json logits within 1e-3', () => {
    expect(model.config()).toEqual({ vocabSize: 50257, nPositions: 256, nEmbd: 256, nLayer: 6, nHead: 4 });
    const logits = model.prefill(ref.prompt_ids);
    expect(logits).toBeInstanceOf(Float32Array);
    expect(logits.length).toBe(50257);
    ref.last_logits_first16.forEach((v, i) => expect(Math.abs(logits[i] - v)).toBeLessThanOrEqual(1e-3));
    let am = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[am]) am = i;
    expect(am).toBe(ref.last_logits_argmax);
  });

  it('greedy continuation equals the reference 32 ids with and without the KV cache', () => {
    for (const kv of [true, false]) {
      model.setKvCache(kv);
      expect(model.kvCache()).toBe(kv);
      expect(run(model, 32, { temperature: 0 }, 0)).toEqual(ref.greedy_32_ids);
    }
    model.setKvCache(true);
  });

  it('KV cache and no-cache paths sample the same 64 tokens for a fixed seed', () => {
    const opts = { temperature: 0.9, topK: 50, topP: 0.95 };
    model.setKvCache(true);
    const a = run(model, 64, opts, 1234);
    model.setKvCache(false);
    const b = run(model, 64, opts, 1234);
    model.setKvCache(true);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(10);
    expect(run(model, 64, opts, 1235)).not.toEqual(a);
    expect(Array.from(model.tokens()).slice(0, 6)).toEqual(ref.prompt_ids);
    expect(model.length()).toBe(6 + 64);
  });

  it('samples with the same PCG32 stream as the native build', () => {
    // first outputs of Rng(42) in the native build (tests/cpp/gpt2_sampling_test.cpp)
    expect(Array.from(core.gpt2RngStream(42, 4))).toEqual([1898997482, 1014631766, 4096008554, 633901381]);
  });

  it('int8 and f16 weights load, shrink memory and keep the greedy continuation', () => {
    for (const fmt of ['f16', 'int8']) {
      const m = loadModel(core, bytes, configJson, fmt);
      try {
        expect(m.format()).toBe(fmt);
        expect(m.weightBytes()).toBeLessThan(model.weightBytes() * 0.55);
        expect(run(m, 32, { temperature: 0 }, 0)).toEqual(ref.greedy_32_ids);
      } finally {
        m.delete();
      }
    }
  });

  it('stops or slides at the context limit', () => {
    const m = core.Gpt2Model.random({ vocabSize: 64, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 4 }, 7, 'f32');
    try {
      m.setOverflow('stop');
      m.prefill([1, 2, 3]);
      while (!m.contextFull()) m.generateOne({ temperature: 0.8 });
      expect(m.length()).toBe(16);
      expect(() => m.generateOne({})).toThrow(expect.objectContaining({ code: 'CONTEXT_FULL' }));
      m.setOverflow('slide');
      expect(m.overflow()).toBe('slide');
      m.generateOne({});
      expect(m.length()).toBe(8);
    } finally {
      m.delete();
    }
  });

  it('rejects malformed checkpoints and bad arguments with coded errors', () => {
    const code = (f) => {
      try {
        f();
      } catch (e) {
        return e.code + ': ' + e.message;
      }
      return 'no error';
    };
    expect(code(() => loadModel(core, bytes.subarray(0, 1000000), configJson, 'f32'))).toMatch(/^CORRUPT_MODEL: .*truncated/);
    expect(code(() => loadModel(core, bytes, '{"n_embd": 256', 'f32'))).toMatch(/^CORRUPT_MODEL: config.json/);
    expect(code(() => loadModel(core, bytes, configJson.replace('"n_layer": 6', '"n_layer": 7'), 'f32')))
      .toMatch(/^CORRUPT_MODEL: .*missing tensor 'h.6.ln_1.weight'/);
    expect(code(() => loadModel(core, bytes, configJson, 'q4'))).toMatch(/^INVALID_ARGUMENT/);
    expect(code(() => model.step(50257))).toMatch(/^INVALID_ARGUMENT/);
    expect(code(() => model.generateOne({ topP: 0 }))).toMatch(/^INVALID_ARGUMENT: top_p/);
  });
});
