// The shared HTTP handler (npm start's server and the edge worker) over real HTTP on loopback,
// in front of a fake upstream that counts calls.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { createHandler, remoteUpstream } from '../../dist/server/handler.js';
import { serveHandler, type NodeServer } from '../../dist/server/node-http.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { toyEmbedder } from './helpers.js';

let upstream: FakeUpstream;
let server: NodeServer;
let cache: SemanticCache;
const cacheErrors: string[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  cache = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8 });
  // pass-through (the client's key reaches the upstream): entries are kept per credential
  const handler = createHandler({ cache, upstream: remoteUpstream(upstream.url), credentialHashKey: 'test-key', onCacheError: (e, where) => cacheErrors.push(`${where}: ${e.message}`) });
  server = await serveHandler(handler);
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await cache?.close();
});
beforeEach(async () => {
  await cache.clear();
  upstream.calls.length = 0;
});

const chat = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-123', ...headers },
    body: JSON.stringify({ model: 'm1', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }], ...extra }),
  });

async function sseText(res: Response) {
  const raw = await res.text();
  const pieces: string[] = [];
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const c = JSON.parse(line.slice(6)).choices[0];
    const t = c.delta?.content ?? c.text;
    if (t) pieces.push(t);
  }
  return { pieces, done: raw.trimEnd().endsWith('data: [DONE]') };
}

describe('caching proxy', () => {
  it('serves a paraphrased second request from the cache', async () => {
    const a = await chat('What is the capital city of France?');
    expect(a.status).toBe(200);
    expect(a.headers.get('x-semcache')).toBe('miss');
    const first = await a.json();
    const b = await chat('what is the capital city of france');
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect(Number(b.headers.get('x-semcache-similarity'))).toBeGreaterThan(0.8);
    const second = await b.json();
    expect(second.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(second.object).toBe('chat.completion');
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.auth).toBe('Bearer sk-test-123');
  });

  it('replays a streamed answer with the original chunks', async () => {
    const a = await chat('Explain streaming replay please', { stream: true });
    expect(a.headers.get('content-type')).toContain('text/event-stream');
    const original = await sseText(a);
    expect(original.done).toBe(true);
    await new Promise((r) => setTimeout(r, 50));  // the put completes after the stream ends
    const b = await chat('explain streaming replay please', { stream: true });
    expect(b.headers.get('x-semcache')).toBe('hit');
    const replay = await sseText(b);
    expect(replay.pieces).toEqual(original.pieces);
    expect(replay.done).toBe(true);
    const c = await chat('explain streaming replay please');  // and as JSON
    expect((await c.json()).choices[0].message.content).toBe(original.pieces.join(''));
    expect(upstream.calls).toHaveLength(1);
  });

  it('treats another model or system prompt as another scope', async () => {
    await chat('Tell me about scopes');
    expect((await chat('Tell me about scopes', { model: 'm2' })).headers.get('x-semcache')).toBe('miss');
    const otherSystem = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'system', content: 'be verbose' }, { role: 'user', content: 'Tell me about scopes' }] }),
    });
    expect(otherSystem.headers.get('x-semcache')).toBe('miss');
    expect((await chat('Tell me about scopes', { temperature: 1.5 })).headers.get('x-semcache')).toBe('miss');
    expect((await chat('Tell me about scopes')).headers.get('x-semcache')).toBe('hit');
    expect(upstream.calls).toHaveLength(4);
  });

  it('keeps tenants apart', async () => {
    await chat('Tenant secret question', {}, { 'x-semcache-tenant': 'a' });
    expect((await chat('Tenant secret question', {}, { 'x-semcache-tenant': 'b' })).headers.get('x-semcache')).toBe('miss');
    expect((await chat('Tenant secret question', {}, { 'x-semcache-tenant': 'a' })).headers.get('x-semcache')).toBe('hit');
  });

  it('passes upstream errors through and does not cache them', async () => {
    upstream.failNext(500, '{"error":{"message":"upstream exploded"}}');
    const a = await chat('Will this fail?');
    expect(a.status).toBe(500);
    expect((await a.json()).error.message).toBe('upstream exploded');
    const b = await chat('Will this fail?');
    expect(b.status).toBe(200);
    expect(b.headers.get('x-semcache')).toBe('miss');
    upstream.failNext(429, '{"error":{"message":"slow down"}}');
    const c = await chat('Rate limited?', { stream: true });
    expect(c.status).toBe(429);
    expect(upstream.calls).toHaveLength(3);
    expect((await cache.stats()).entries).toBe(1);
  });

  it('answers malformed bodies with 400 and a message', async () => {
    const asJson = { 'content-type': 'application/json' };
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: asJson, body: '{"model": "m1", "messages": [' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/not valid JSON/);
    const noMessages = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: asJson, body: '{"model":"m1"}' });
    expect(noMessages.status).toBe(400);
    expect((await noMessages.json()).error.message).toMatch(/messages/);
    const badCompletion = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: asJson, body: '{"model":"m1","prompt":5}' });
    expect(badCompletion.status).toBe(400);
    expect((await fetch(`${server.url}/v1/chat/completions`)).status).toBe(405);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect(upstream.calls).toHaveLength(0);
  });

  it('skips the lookup with Cache-Control: no-cache, and storing with no-store', async () => {
    await chat('Fresh answer please', {}, { 'cache-control': 'no-store' });
    expect((await cache.stats()).entries).toBe(0);
    await chat('Fresh answer please');
    const c = await chat('Fresh answer please', {}, { 'cache-control': 'no-cache' });
    expect(c.headers.get('x-semcache')).toBe('bypass');
    expect(upstream.calls).toHaveLength(3);
  });

  it('caches /v1/completions too', async () => {
    const post = (prompt: string) =>
      fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm1', prompt }) });
    const a = await (await post('Once upon a time')).json();
    const b = await post('once upon a time');
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect((await b.json()).choices[0].text).toBe(a.choices[0].text);
  });
});

describe('cache endpoints', () => {
  const post = (path: string, body: unknown, tenant = 't', headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-semcache-tenant': tenant, ...headers }, body: JSON.stringify(body) });

  it('put, get, stats, clear, flush', async () => {
    const put = await (await post('/cache/put', { prompt: 'How many legs does a spider have?', answer: 'Eight.' })).json();
    expect(put.id).toBeGreaterThan(0);
    const got = await (await post('/cache/get', { prompt: 'how many legs does a spider have' })).json();
    expect(got).toMatchObject({ hit: true, answer: 'Eight.', matchedPrompt: 'How many legs does a spider have?' });
    expect((await (await post('/cache/get', { prompt: 'how many legs does a spider have' }, 'other')).json()).hit).toBe(false);
    const stats = await (await fetch(`${server.url}/cache/stats`, { headers: { 'x-semcache-tenant': 't' } })).json();
    expect(stats).toMatchObject({ tenant: 't', entries: 1 });
    expect((await (await fetch(`${server.url}/cache/stats`, { headers: { 'x-semcache-tenant': 'other' } })).json()).entries).toBe(0);
    expect((await post('/cache/flush', {})).status).toBe(200);
    expect(await (await post('/cache/clear', {})).json()).toEqual({ removed: 1 });
    expect((await post('/cache/get', { prompt: 5 })).status).toBe(400);
    expect((await post('/cache/put', { prompt: 'x' })).status).toBe(400);
  });

  it('looks up chat-cached entries with an OpenAI-shaped body', async () => {
    await chat('Which planet is largest?', {}, { 'x-semcache-tenant': 't' });
    const body = { model: 'm1', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'which planet is largest' }] };
    // pass-through: entries are the credential's, so the lookup names the same key
    expect((await (await post('/cache/get', body, 't', { authorization: 'Bearer sk-test-123' })).json()).hit).toBe(true);
    expect((await (await post('/cache/get', body, 't', { authorization: 'Bearer sk-other' })).json()).hit).toBe(false);
  });
});
