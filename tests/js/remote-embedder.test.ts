// remoteEmbedder against a fake OpenAI-compatible /v1/embeddings on loopback, and against
// scripted fetches for the malformed answers a real server can give.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { remoteEmbedder } from '../../dist/edge/index.js';
import { bagOfWords, startFakeEmbeddings } from './fake-servers.mjs';

let fake: Awaited<ReturnType<typeof startFakeEmbeddings>>;
beforeAll(async () => {
  fake = await startFakeEmbeddings({ dim: 32 });
});
afterAll(() => fake?.close());

const scripted = (status: number, body: unknown) =>
  (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })) as typeof fetch;

describe('remoteEmbedder', () => {
  it('posts batches to {url}/v1/embeddings with the key and model, in input order', async () => {
    fake.calls.length = 0;
    const e = remoteEmbedder({ url: `${fake.url}/v1/`, model: 'emb-1', apiKey: 'sk-emb', dimensions: 32, batchSize: 2 });
    const texts = ['one fish', 'two fish', 'red fish', 'blue fish', 'green'];
    const out = await e.embed(texts);
    expect(out).toHaveLength(5);
    out.forEach((v, i) => expect(Array.from(v)).toEqual(bagOfWords(texts[i]!, 32).map(Math.fround)));
    expect(fake.calls.map((c) => c.body.input)).toEqual([['one fish', 'two fish'], ['red fish', 'blue fish'], ['green']]);
    expect(fake.calls.every((c) => c.path === '/v1/embeddings' && c.auth === 'Bearer sk-emb' && c.body.model === 'emb-1')).toBe(true);
    expect(fake.calls[0]!.body.dimensions).toBeUndefined();
    expect(e.id).toBe('remote:emb-1:32');
  });

  it('sends `dimensions` only when asked to', async () => {
    fake.calls.length = 0;
    await remoteEmbedder({ url: fake.url, model: 'm', dimensions: 32, sendDimensions: true }).embed(['a']);
    expect(fake.calls[0]!.body).toMatchObject({ model: 'm', input: ['a'], dimensions: 32, encoding_format: 'float' });
  });

  it('reorders by `index`', async () => {
    const e = remoteEmbedder({ url: 'http://x', model: 'm', fetch: scripted(200, { data: [{ index: 1, embedding: [0, 1] }, { index: 0, embedding: [1, 0] }] }) });
    expect((await e.embed(['a', 'b'])).map((v) => Array.from(v))).toEqual([[1, 0], [0, 1]]);
  });

  it('fails clearly on errors, malformed answers and wrong dimensions, never naming the key', async () => {
    const cases: [typeof fetch, RegExp, number?][] = [
      [scripted(401, { error: { message: 'Incorrect API key provided' } }), /HTTP 401: Incorrect API key provided/],
      [scripted(502, '<html>bad gateway</html>'), /HTTP 502: <html>bad gateway/],
      [scripted(200, 'not json'), /not JSON/],
      [scripted(200, { object: 'list' }), /no `data` array/],
      [scripted(200, { data: [{ index: 0, embedding: [1, 2] }] }), /1 embeddings for 2 inputs/],
      [scripted(200, { data: [{ index: 0, embedding: [1, 2] }, { index: 0, embedding: [1, 2] }] }), /not a distinct index/],
      [scripted(200, { data: [{ embedding: 'AAAA' }, { embedding: [1] }] }), /base64/],
      [scripted(200, { data: [{ embedding: [1, 'x'] }, { embedding: [1, 2] }] }), /embedding\[1\] is not a finite number/],
      [scripted(200, { data: [{ embedding: [1, 2] }, { embedding: [1, 2, 3] }] }), /different lengths/],
      [scripted(200, { data: [{ embedding: [1, 2] }, { embedding: [1, 2] }] }), /has 2 dimensions, expected 3/, 3],
      [(async () => { throw new TypeError('connection refused'); }) as typeof fetch, /request failed: connection refused/],
    ];
    for (const [f, re, dimensions] of cases) {
      const e = remoteEmbedder({ url: 'http://emb.test', model: 'm', apiKey: 'sk-very-secret', fetch: f, dimensions });
      const err = await e.embed(['a', 'b']).then(() => null, (x) => x);
      expect(err, String(re)).toMatchObject({ name: 'SemcacheError', code: 'EMBEDDER_FAILED' });
      expect(err.message).toMatch(re);
      expect(err.message).toContain('http://emb.test/v1/embeddings');
      expect(err.message).not.toContain('sk-very-secret');
    }
  });

  it('times out, and honours an AbortSignal', async () => {
    const server = http.createServer(() => {});  // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const slow = remoteEmbedder({ url, model: 'm', timeoutMs: 100 });
      await expect(slow.embed(['a'])).rejects.toMatchObject({ code: 'EMBEDDER_FAILED', message: expect.stringMatching(/no answer within 100 ms/) });
      const e = remoteEmbedder({ url, model: 'm', timeoutMs: 0 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await expect(e.embed(['a'], { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('rejects bad options', () => {
    expect(() => remoteEmbedder({ url: 'ftp://x', model: 'm' })).toThrow(/http\(s\) url/);
    expect(() => remoteEmbedder({ url: 'http://x', model: '' })).toThrow(/model/);
    expect(() => remoteEmbedder({ url: 'http://x', model: 'm', dimensions: 0 })).toThrow(/dimensions/);
  });

  it('drives a SemanticCache (paraphrase hit through the remote endpoint)', async () => {
    const cache = await SemanticCache.open({ embedder: remoteEmbedder({ url: fake.url, model: 'toy', dimensions: 32 }), threshold: 0.8 });
    try {
      await cache.put('What is the tallest mountain on Earth?', 'Everest');
      const r = await cache.get('what is the tallest mountain on earth today');
      expect(r).toMatchObject({ hit: true, answer: 'Everest' });
    } finally {
      await cache.close();
    }
  });
});
