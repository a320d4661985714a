// js/embedders/onnx-session.ts on the converted USE-lite model, in Node (wasm from node_modules).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxEmbeddingSession } from '../../js/embedders/onnx-session';
// @ts-expect-error plain .mjs tooling without type declarations
import { convert } from '../../tools/convert-use/convert.mjs';
// @ts-expect-error plain .mjs tooling without type declarations
import { OnnxGraph } from '../../tools/convert-use/onnx-builder.mjs';
// @ts-expect-error plain .mjs tooling without type declarations
import { referenceTokenizer } from '../../tools/convert-use/tfjs-reference.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'dist/models/use-lite');

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('OnnxEmbeddingSession', () => {
  let session: OnnxEmbeddingSession;
  let manifest: { model: { sha256: string }; dims: number };
  let model: Uint8Array;
  const tokenize: (s: string) => number[] = referenceTokenizer();

  beforeAll(async () => {
    convert({ out: OUT, log: () => {} });
    manifest = JSON.parse(fs.readFileSync(path.join(OUT, 'manifest.json'), 'utf8'));
    model = fs.readFileSync(path.join(OUT, 'model.onnx'));
    session = await OnnxEmbeddingSession.create({ model, expectedSha256: manifest.model.sha256 });
  }, 60_000);
  afterAll(async () => { await session?.release(); });

  it('reads the embedding width from the model', () => {
    expect(session.dims).toBe(manifest.dims);
    expect(session.dims).toBe(512);
  });

  it('embeds a padded batch: unit vectors, equal to single runs, similar questions closer', async () => {
    const texts = ['How do I learn Python quickly?', 'What is the fastest way to learn Python?', 'What is the capital of Morocco?', 'hi'];
    const rows = texts.map(tokenize);
    const batch = await session.embed(rows);
    expect(batch).toHaveLength(4);
    for (let i = 0; i < rows.length; i++) {
      expect(batch[i]).toBeInstanceOf(Float32Array);
      expect(Math.abs(Math.sqrt(dot(batch[i], batch[i])) - 1)).toBeLessThan(1e-5);
      const [single] = await session.embed([rows[i]]);
      for (let j = 0; j < 512; j++) expect(Math.abs(single[j] - batch[i][j])).toBeLessThan(1e-5);
    }
    expect(dot(batch[0], batch[1])).toBeGreaterThan(dot(batch[0], batch[2]) + 0.1);
    expect(await session.embed([])).toEqual([]);
  });

  it('accepts Int32Array rows and rejects empty ones with a coded error', async () => {
    const [a] = await session.embed([Int32Array.from(tokenize('hello world'))]);
    const [b] = await session.embed([tokenize('hello world')]);
    expect(Array.from(a)).toEqual(Array.from(b));
    await expect(session.embed([[5], []])).rejects.toMatchObject({ name: 'SemcacheError', code: 'EMBED_INPUT' });
  });

  it('refuses bytes whose checksum does not match the manifest', async () => {
    await expect(OnnxEmbeddingSession.create({ model, expectedSha256: '0'.repeat(64) }))
      .rejects.toMatchObject({ name: 'SemcacheError', code: 'MODEL_CHECKSUM' });
  });

  it('refuses bytes that are not an ONNX model, and a model with other inputs', async () => {
    await expect(OnnxEmbeddingSession.create({ model: new TextEncoder().encode('not a model') }))
      .rejects.toMatchObject({ name: 'SemcacheError', code: 'MODEL_INVALID' });
    const g = new OnnxGraph('other');
    g.input('x', 'float32', ['n', 4]);
    g.op('Relu', ['x'], {}, ['y']);
    g.output('y', 'float32', ['n', 4]);
    const other = g.encode({ opset: 17, producer: 'test', producerVersion: '0' });
    await expect(OnnxEmbeddingSession.create({ model: other }))
      .rejects.toMatchObject({ name: 'SemcacheError', code: 'MODEL_INVALID' });
  });

  it('fails with CLOSED after release', async () => {
    const s = await OnnxEmbeddingSession.create({ model: model.buffer.slice(model.byteOffset, model.byteOffset + model.byteLength) });
    await s.release();
    await expect(s.embed([[5]])).rejects.toMatchObject({ name: 'SemcacheError', code: 'CLOSED' });
  });
});
