// OnnxEmbedder in Node: the bundled USE lite, and the "real users load a model from a URL" path
// against a local HTTP server serving a BERT-shaped model (seeded random weights) with
// all-MiniLM-L6-v2's real tokenizer files.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBert } from '../../tools/make-tiny-bert.mjs';
import { root } from './helpers.js';

// The model-file cache goes to a fresh directory (read when the Node entry loads).
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-models-'));
process.env.SEMCACHE_CACHE_DIR = cacheDir;
const { OnnxEmbedder, SemanticCache, SemcacheError } = await import('semcache');

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describe('bundled USE lite (the default: tuned for caching)', () => {
  let e: InstanceType<typeof OnnxEmbedder>;
  beforeAll(async () => {
    e = await OnnxEmbedder.load();
  });
  afterAll(async () => e?.dispose());

  it('loads from its files given as bytes and text (an edge worker imports them), checked against the manifest', async () => {
    const dir = path.join(root, 'dist/models/use-lite-cache');
    const manifest = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    const vocab = fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8');
    const model = new Uint8Array(fs.readFileSync(path.join(dir, JSON.parse(manifest).variants.q8.file)));
    const evaluator = new Uint8Array(fs.readFileSync(path.join(root, 'dist/models/evaluator/model.bin')));
    const f = await OnnxEmbedder.load({ files: { manifest, model, vocab, evaluator } });
    expect(f.id).toBe(e.id);
    expect(f.defaultEvaluator).toMatchObject({ evaluator: 'learned', evaluatorModel: evaluator, maxFalseHitRate: 0.02 });
    const q = 'How do I learn Python quickly?';
    const [a] = await f.embed([q]);
    const [b] = await e.embed([q]);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    await f.dispose();
    // the fp32 variant's bytes under dtype q8: refused, not run
    const fp32 = new Uint8Array(fs.readFileSync(path.join(dir, JSON.parse(manifest).model.file)));
    await expect(OnnxEmbedder.load({ files: { manifest, model: fp32, vocab } })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
    await expect(OnnxEmbedder.load({ files: { manifest: '{"format":"other"}', model, vocab } })).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('embeds to unit 512-d vectors, paraphrases closer than unrelated questions', async () => {
    expect(e.dimensions).toBe(512);
    expect(e.id).toMatch(/^use-lite-cache-q8@[0-9a-f]{12}$/);
    expect(e.defaultThreshold).toBeGreaterThan(0);
    const [a, b, c] = await e.embed(['How do I learn Python quickly?', 'What is the fastest way to learn Python?', 'What is the capital of Morocco?']);
    for (const v of [a!, b!, c!]) expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-4);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.3);
  });

  it('gives the same vector in a batch as alone, and cuts long texts (q8 and fp32)', async () => {
    const fp32 = await OnnxEmbedder.load({ dtype: 'fp32' });
    expect(fp32.id).toMatch(/^use-lite-cache@[0-9a-f]{12}$/);
    const texts = Array.from({ length: 40 }, (_, i) => `question number ${i} about ${'topic '.repeat(i % 7)}`);
    texts.push('word '.repeat(2000));
    for (const m of [e, fp32]) {
      const batch = await m.embed(texts);
      expect(batch).toHaveLength(41);
      for (const i of [0, 17, 33, 40]) {
        const [single] = await m.embed([texts[i]!]);
        expect(Math.max(...single!.map((x, j) => Math.abs(x - batch[i]![j]!)))).toBeLessThan(1e-5);
      }
    }
    // int8 weights stay close to the exact conversion
    const q = await e.embed(texts.slice(0, 8)), x = await fp32.embed(texts.slice(0, 8));
    for (let i = 0; i < 8; i++) expect(dot(q[i]!, x[i]!)).toBeGreaterThan(0.995);
    await expect(OnnxEmbedder.load({ dtype: 'fp16' as 'q8' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await fp32.dispose();
  });

  it('is the cache\'s embedder, with its calibrated evaluator', async () => {
    const cache = await SemanticCache.open({ embedder: e });
    expect(cache.threshold).toBe(e.defaultThreshold);
    expect(await cache.stats()).toMatchObject({ evaluator: 'learned' });
    await cache.put('How do I learn Python quickly?', 'Practice every day.');
    const r = await cache.get('What is the fastest way to learn Python?');
    expect(r.hit).toBe(true);
    expect((await cache.get('What is the capital of Morocco?')).hit).toBe(false);
    await cache.close();
  });

  it('honours AbortSignal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(e.embed(['x'], { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('a BERT-style model from a URL', () => {
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-tinybert-'));

  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.writeFileSync(path.join(dir, 'onnx/model.onnx'), tinyBert({ hidden: 32 }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      fs.copyFileSync(path.join(root, '../shared/tokenizers/all-MiniLM-L6-v2', f), path.join(dir, f));
    }
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const file = path.join(dir, req.url ?? '');
      if (!file.startsWith(dir) || !fs.existsSync(file)) return void res.writeHead(404).end();
      const bytes = fs.readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('downloads with progress, tokenizes with WordPiece, pools and normalizes, then caches the bytes', async () => {
    const progress: { url: string; loaded: number; total: number | null }[] = [];
    const e = await OnnxEmbedder.load({ model: `${base}/onnx/model.onnx`, onProgress: (p) => progress.push(p) });
    expect(e.dimensions).toBe(32);
    expect(requests).toEqual(expect.arrayContaining(['/onnx/model.onnx', '/tokenizer.json', '/tokenizer_config.json']));
    const modelProgress = progress.filter((p) => p.url.endsWith('model.onnx'));
    expect(modelProgress.length).toBeGreaterThan(1);
    expect(modelProgress.at(-1)!.loaded).toBe(modelProgress.at(-1)!.total);
    const [a, b, d] = await e.embed(['The cat sat on the mat.', 'THE CAT SAT ON THE MAT.', 'Stock prices fell sharply']);
    expect(Math.abs(norm(a!) - 1)).toBeLessThan(1e-5);
    expect(dot(a!, b!)).toBeGreaterThan(0.99999);  // the uncased tokenizer gives the same ids
    expect(dot(a!, d!)).toBeLessThan(0.99);
    const cls = await OnnxEmbedder.load({ model: `${base}/onnx/model.onnx`, pooling: 'cls' });
    const [c] = await cls.embed(['The cat sat on the mat.']);
    expect(dot(a!, c!)).toBeLessThan(0.999);
    expect(fs.readdirSync(cacheDir).length).toBeGreaterThanOrEqual(2);
    await e.dispose();
    await cls.dispose();
    // The second load of the same URL came from the cache: no new request for the model.
    expect(requests.filter((r) => r === '/onnx/model.onnx')).toHaveLength(1);
  });

  it('reports a missing model or a malformed one clearly', async () => {
    await expect(OnnxEmbedder.load({ model: `${base}/nope.onnx` })).rejects.toMatchObject({ code: 'FETCH_FAILED' });
    fs.writeFileSync(path.join(dir, 'bad.onnx'), 'not a model');
    const err = await OnnxEmbedder.load({ model: `${base}/bad.onnx`, tokenizer: `${base}/tokenizer.json` }).catch((x) => x);
    expect(err).toBeInstanceOf(SemcacheError);
    expect(err.code).toBe('MODEL_INVALID');
  });
});
