// The `npm start` server (dist/server/main.js's startServer): the bundled embedder, the SQLite
// file store, and either the in-process GPT-2 or an upstream given by URL. Request semantics are
// the shared handler's (tests/js/handler.test.ts); here: that the server wires them for real.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../dist/server/config.js';
import { startServer } from '../../dist/server/main.js';
import { OnnxEmbedder, SemanticCache } from '../../dist/node.js';
import { BURST_USE } from './burst-prompts.mjs';
import { startFakeUpstream } from './fake-servers.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-server-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const chat = (url: string, content: string, extra: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-secret-client-key' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 12, ...extra }),
  });

describe('with an upstream by URL', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  const logs: string[] = [];
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const cfg = parseConfig(['--upstream', upstream.url, '--port', '0', '--storage', path.join(dir, 'a.db')]);
    if (cfg === 'help') throw new Error('unexpected');
    server = await startServer(cfg, (s) => logs.push(s));
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('serves a paraphrase from the cache, passes the key through and never logs it', async () => {
    const a = await chat(server.url, 'How do I learn Python quickly?');
    expect(a.headers.get('x-semcache')).toBe('miss');
    const b = await chat(server.url, 'What is the fastest way to learn Python?');
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect(Number(b.headers.get('x-semcache-similarity'))).toBeGreaterThanOrEqual(0.95);
    expect((await b.json()).choices[0].message.content).toBe((await a.json()).choices[0].message.content);
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.auth).toBe('Bearer sk-secret-client-key');
    expect(logs.join('\n')).not.toContain('sk-secret');
    const stats = await (await fetch(`${server.url}/cache/stats`)).json();
    expect(stats).toMatchObject({ entries: 1, hits: 1, store: 'file' });
  });

  it('keeps what it cached across a restart (the SQLite file)', async () => {
    await server.close();
    const cfg = parseConfig(['--upstream', upstream.url, '--port', '0', '--storage', path.join(dir, 'a.db')]);
    if (cfg === 'help') throw new Error('unexpected');
    server = await startServer(cfg, () => {});
    expect((await chat(server.url, 'How do I learn Python quickly?')).headers.get('x-semcache')).toBe('hit');
    expect(upstream.calls).toHaveLength(1);
  });

  it('its burst prompts hit each other at the default setting, whichever leads', async () => {
    // the next test's one call needs every prompt to join whichever arrives first (an edge test
    // once flaked on a burst set that did not: tests/js/burst-prompts.mjs)
    const cache = await SemanticCache.open({ embedder: await OnnxEmbedder.load() });
    try {
      const misses: string[] = [];
      for (let i = 0; i < BURST_USE.length; i++) {
        await cache.put(BURST_USE[i]!, `answer ${i}`, { scope: `lead ${i}` });
        for (let j = 0; j < BURST_USE.length; j++)
          if (j !== i && !(await cache.get(BURST_USE[j]!, { scope: `lead ${i}` })).hit) misses.push(`${BURST_USE[i]} <- ${BURST_USE[j]}`);
      }
      expect(misses).toEqual([]);
    } finally {
      await cache.close();
    }
  });

  it('makes one upstream call for 20 concurrent paraphrases of one uncached question', async () => {
    // the first test cached this very question: start from an empty cache (loopback may clear)
    expect((await fetch(`${server.url}/cache/clear`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    const before = upstream.calls.length;
    upstream.delayMs = 300;
    try {
      const res = await Promise.all(BURST_USE.map((q) => chat(server.url, q)));
      expect(res.every((r) => r.status === 200)).toBe(true);
      expect(new Set(await Promise.all(res.map(async (r) => (await r.json()).choices[0].message.content))).size).toBe(1);
    } finally {
      upstream.delayMs = 0;
    }
    expect(upstream.calls.length - before).toBe(1);
  });

  it('serves the Responses API from the same cache rules', async () => {
    const before = upstream.calls.length;
    const ask = (input: string) =>
      fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-secret-client-key' }, body: JSON.stringify({ model: 'm', input }) });
    const a = await ask('How do I bake sourdough bread at home?');
    expect(a.headers.get('x-semcache')).toBe('miss');
    const b = await ask('How can I bake sourdough bread at home?');
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect((await b.json()).output[0].content[0].text).toBe((await a.json()).output[0].content[0].text);
    expect(upstream.calls.length - before).toBe(1);
  });

  it('serves the demo page and its files, and nothing outside them', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>semcache');
    expect((await fetch(`${server.url}/dist/wasm/semcache_core.wasm`)).headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${server.url}/models/gpt2/config.json`)).status).toBe(200);
    expect((await fetch(`${server.url}/workers/gpt2.js`)).status).toBe(200);
    expect((await fetch(`${server.url}/workers/edge/wrangler.toml`)).status).toBe(404);
    expect((await fetch(`${server.url}/dist/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/%2e%2e/package.json`)).status).toBe(404);
  });
});

describe('with the bundled GPT-2', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    const cfg = parseConfig(['--port', '0', '--storage', 'memory']);
    if (cfg === 'help') throw new Error('unexpected');
    server = await startServer(cfg, () => {});
  });
  afterAll(async () => server?.close());

  it('reports the tokens a generation used, and a hit replays them with its finish reason', async () => {
    for (const max of [3, 40]) {
      const r = await (await chat(server.url, `Where is the old harbour? (${max})`, { max_tokens: max })).json();
      const { prompt_tokens: p, completion_tokens: c, total_tokens: t } = r.usage;
      expect(p).toBeGreaterThan(5);  // "Q: Where is the old harbour? (3)\nA:" in GPT-2 tokens
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThanOrEqual(max);
      expect(t).toBe(p + c);
      // 'length' when max_tokens cut it, else 'stop' (a stop sequence or <|endoftext|>)
      expect(['length', 'stop']).toContain(r.choices[0].finish_reason);
      if (r.choices[0].finish_reason === 'length') expect(c).toBe(max);
      if (max === 3) expect(r.choices[0].finish_reason).toBe('length');  // this prompt runs on past 3 tokens
    }
    const short = await (await chat(server.url, 'Where is the old harbour? (3)', { max_tokens: 3 })).json();
    const again = await chat(server.url, 'Where is the old harbour? (3)', { max_tokens: 3 });
    expect(again.headers.get('x-semcache')).toBe('hit');
    const replay = await again.json();
    expect(replay.usage).toEqual(short.usage);
    expect(replay.choices[0].finish_reason).toBe('length');
  });

  it('honours max_completion_tokens and refuses a batch of prompts', async () => {
    const r = await (await chat(server.url, 'Where is the old lighthouse?', { max_tokens: undefined, max_completion_tokens: 2 })).json();
    expect(r.usage.completion_tokens).toBe(2);
    expect(r.choices[0].finish_reason).toBe('length');
    const batch = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', prompt: ['a', 'b'] }) });
    expect(batch.status).toBe(400);
    expect(batch.headers.get('x-semcache')).toBe('bypass');
  });

  it('answers offline, streams, and replays the stream from the cache', async () => {
    const a = await chat(server.url, 'Tell me about the old city by the river', { stream: true, seed: 3 });
    expect(a.headers.get('x-semcache')).toBe('miss');
    const raw = await a.text();
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const pieces = raw.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).choices[0].delta?.content ?? '').filter(Boolean);
    expect(pieces.length).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, 100));
    const b = await chat(server.url, 'Tell me about the old city by the river', { stream: true, seed: 3 });  // the seed is part of the scope
    expect(b.headers.get('x-semcache')).toBe('hit');
    const replay = (await b.text()).split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).choices[0].delta?.content ?? '').filter(Boolean);
    expect(replay).toEqual(pieces);
  });

  it('answers the Responses API too, JSON and streamed, and replays it', async () => {
    const ask = (stream: boolean) =>
      fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt2', instructions: 'Answer briefly.', input: 'Where is the old harbour?', max_output_tokens: 6, stream, temperature: 0 }) });
    const a = await ask(false);
    expect(a.headers.get('x-semcache')).toBe('miss');
    const json = await a.json();
    expect(json.object).toBe('response');
    expect(json.usage.output_tokens).toBeGreaterThan(0);
    expect(json.usage.output_tokens).toBeLessThanOrEqual(6);
    const text = json.output[0].content[0].text;
    expect(text.length).toBeGreaterThan(0);
    const b = await ask(true);
    expect(b.headers.get('x-semcache')).toBe('hit');
    const raw = await b.text();
    const deltas = raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6))).filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    expect(deltas.join('')).toBe(text);
    expect(raw).toContain(json.status === 'incomplete' ? 'event: response.incomplete' : 'event: response.completed');
  });

  it('rejects bad options with a clear message', () => {
    expect(() => parseConfig(['--threshold', '2'])).toThrow(/threshold must be a number in \[-1, 1\]/);
    expect(() => parseConfig(['--eviction', 'mru'])).toThrow(/eviction must be one of lru, lfu, fifo/);
    expect(() => parseConfig(['--upstream', 'ftp://x'])).toThrow(/http\(s\) URL/);
    expect(() => parseConfig(['--nope'])).toThrow(/Unknown option/);
    expect(() => parseConfig(['--evaluator', 'learned', '--max-false-hit-rate', '1.5'])).toThrow(/maxFalseHitRate must be a number in \[0, 1\]/);
    expect(parseConfig(['--help'])).toBe('help');
  });
});

describe('with the learned evaluator', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const cfg = parseConfig(['--upstream', upstream.url, '--port', '0', '--storage', 'memory', '--evaluator', 'learned', '--max-false-hit-rate', '0.05']);
    if (cfg === 'help') throw new Error('unexpected');
    server = await startServer(cfg, () => {});
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('sends a hard negative upstream and serves a paraphrase from the cache', async () => {
    expect((await chat(server.url, 'How do I learn Python?')).headers.get('x-semcache')).toBe('miss');
    expect((await chat(server.url, 'How do I learn Java?')).headers.get('x-semcache')).toBe('miss');
    expect((await chat(server.url, 'How can I learn Python?')).headers.get('x-semcache')).toBe('hit');
    expect(upstream.calls).toHaveLength(2);
    const stats = await (await fetch(`${server.url}/cache/stats`)).json();
    expect(stats).toMatchObject({ evaluator: 'learned' });
  });

  it('decides who joins a call in flight with the same evaluator: a hard negative does not wait', async () => {
    upstream.calls.length = 0;
    upstream.delayMs = 300;
    try {
      const [py, py2, js] = await Promise.all(['How do I learn Rust?', 'How can I learn Rust?', 'How do I learn Go?'].map((q) => chat(server.url, q)));
      // one of the paraphrases led, the other joined it; the other language asked the upstream
      expect([py.headers.get('x-semcache'), py2.headers.get('x-semcache')].sort()).toEqual(['hit', 'miss']);
      expect(js.headers.get('x-semcache')).toBe('miss');
    } finally {
      upstream.delayMs = 0;
    }
    expect(upstream.calls).toHaveLength(2);
  });
});
