// The edge worker (workers/edge/worker.mjs) in the real workerd runtime (Miniflare from npm):
// Durable Objects with SQLite storage persisted to a directory, a fake LLM and a fake
// embeddings API on loopback, both counting calls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../dist/edge/index.js';
import { requestKey } from '../../dist/llm/request-key.js';
import { startFakeEmbeddings, startFakeUpstream } from './fake-servers.mjs';
import { edgeMiniflare } from './miniflare.mjs';

type Fake = Awaited<ReturnType<typeof startFakeUpstream>>;
let upstream: Fake;
let embeddings: Fake;
const dirs: string[] = [];

function tmpdir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-edge-'));
  dirs.push(d);
  return d;
}

const ADMIN = 'admin-token-for-tests';
async function startWorker(persist: string, vars: Record<string, string> = {}) {
  const mf = edgeMiniflare({ persist, upstreamUrl: upstream.url, embeddingsUrl: embeddings.url, vars: { ADMIN_TOKEN: ADMIN, ...vars } });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { mf, url };
}

type Worker = Awaited<ReturnType<typeof startWorker>>;

function chat(w: Worker, content: string, o: { tenant?: string; extra?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
  return fetch(`${w.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-key', 'x-semcache-tenant': o.tenant ?? 'acme', ...o.headers },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }], ...o.extra }),
  });
}

/** The cache endpoints, as the admin (puts, clears and flushes need the token). */
function post(w: Worker, p: string, body: unknown, tenant: string) {
  return fetch(`${w.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-semcache-tenant': tenant, 'x-semcache-admin-token': ADMIN }, body: JSON.stringify(body) });
}

async function stats(w: Worker, tenant: string) {
  return (await fetch(`${w.url}/cache/stats`, { headers: { 'x-semcache-tenant': tenant } })).json();
}

async function sse(res: Response) {
  const raw = await res.text();
  const pieces: string[] = [];
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const t = JSON.parse(line.slice(6)).choices[0].delta?.content;
    if (t) pieces.push(t);
  }
  return { pieces, done: raw.trimEnd().endsWith('data: [DONE]') };
}

/** Waits until the tenant's shard holds `n` entries (stream answers are stored after the stream ends). */
async function entries(w: Worker, tenant: string, n: number) {
  for (let i = 0; i < 100; i++) {
    if ((await stats(w, tenant)).entries >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`tenant ${tenant} never reached ${n} entries`);
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  embeddings = await startFakeEmbeddings({ dim: 64 });
});
afterAll(async () => {
  await upstream?.close();
  await embeddings?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('edge worker in workerd', () => {
  let w: Worker;
  beforeAll(async () => {
    w = await startWorker(tmpdir(), { UPSTREAM_API_KEY: 'sk-server-secret' });
  });
  afterAll(async () => {
    await w?.mf.dispose();
  });

  it('serves a paraphrased second request from the cache (upstream called once)', async () => {
    const before = upstream.calls.length;
    const a = await chat(w, 'What is the capital city of France?');
    expect(a.status).toBe(200);
    expect(a.headers.get('x-semcache')).toBe('miss');
    const first = await a.json();
    const b = await chat(w, 'so what is the capital city of france');
    expect(b.status).toBe(200);
    expect(b.headers.get('x-semcache')).toBe('hit');
    const sim = Number(b.headers.get('x-semcache-similarity'));
    expect(sim).toBeGreaterThan(0.8);
    expect(sim).toBeLessThan(1);  // a paraphrase, found by meaning, not the exact-prompt path
    const second = await b.json();
    expect(second.object).toBe('chat.completion');
    expect(second.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(upstream.calls.length - before).toBe(1);
    // The server-side secret replaces the client's key, and neither is stored or echoed.
    expect(upstream.calls.at(-1)!.auth).toBe('Bearer sk-server-secret');
    expect(JSON.stringify(second)).not.toContain('sk-');
  });

  it('replays a streamed answer as SSE', async () => {
    const before = upstream.calls.length;
    const a = await chat(w, 'Explain streaming replay to me', { tenant: 'stream', extra: { stream: true } });
    expect(a.headers.get('content-type')).toContain('text/event-stream');
    const original = await sse(a);
    expect(original.done).toBe(true);
    expect(original.pieces.length).toBeGreaterThan(1);
    await entries(w, 'stream', 1);
    const b = await chat(w, 'explain streaming replay to me now', { tenant: 'stream', extra: { stream: true } });
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect(b.headers.get('content-type')).toContain('text/event-stream');
    const replay = await sse(b);
    expect(replay.pieces).toEqual(original.pieces);
    expect(replay.done).toBe(true);
    expect(upstream.calls.length - before).toBe(1);
  });

  it('never gives tenant A an answer of tenant B', async () => {
    const q = 'What is our internal launch code?';
    expect((await post(w, '/cache/put', { model: 'gpt-test', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: q }], answer: 'B-only: 0000' }, 'tenant-b')).status).toBe(200);
    const b = await chat(w, q, { tenant: 'tenant-b' });
    expect(b.headers.get('x-semcache')).toBe('hit');
    expect((await b.json()).choices[0].message.content).toBe('B-only: 0000');
    const a = await chat(w, q, { tenant: 'tenant-a' });
    expect(a.headers.get('x-semcache')).toBe('miss');
    expect((await a.json()).choices[0].message.content).not.toContain('B-only');
    const got = await (await post(w, '/cache/get', { prompt: 'launch code', scope: { model: 'x' } }, 'tenant-a')).json();
    expect(got.hit).toBe(false);
    expect((await stats(w, 'tenant-b')).entries).toBe(1);
    expect((await stats(w, 'tenant-a')).entries).toBe(1);  // its own, from the miss above
  });

  it('passes an upstream error through and does not cache it', async () => {
    const before = upstream.calls.length;
    upstream.failNext(500, '{"error":{"message":"upstream exploded"}}');
    const a = await chat(w, 'Will this request fail?', { tenant: 'errors' });
    expect(a.status).toBe(500);
    expect((await a.json()).error.message).toBe('upstream exploded');
    upstream.failNext(429, '{"error":{"message":"slow down"}}');
    const s = await chat(w, 'Will this request fail?', { tenant: 'errors', extra: { stream: true } });
    expect(s.status).toBe(429);
    expect((await s.json()).error.message).toBe('slow down');
    const b = await chat(w, 'Will this request fail?', { tenant: 'errors' });
    expect(b.status).toBe(200);
    expect(b.headers.get('x-semcache')).toBe('miss');
    expect(upstream.calls.length - before).toBe(3);
    expect((await stats(w, 'errors')).entries).toBe(1);
  });

  it('answers malformed bodies with 400 without calling upstream', async () => {
    const before = upstream.calls.length;
    const asJson = { 'content-type': 'application/json' };
    const bad = await fetch(`${w.url}/v1/chat/completions`, { method: 'POST', headers: asJson, body: '{"model": "m", "messages": [' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/not valid JSON/);
    const noMessages = await fetch(`${w.url}/v1/chat/completions`, { method: 'POST', headers: asJson, body: '{"model":"m"}' });
    expect(noMessages.status).toBe(400);
    // A bad prompt is refused inside the Durable Object; its code crosses the RPC boundary.
    const empty = await post(w, '/cache/put', { prompt: '   ', answer: 'x' }, 'acme');
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.code).toBe('INVALID_PROMPT');
    expect(upstream.calls.length - before).toBe(0);
  });

  it('skips the cache with Cache-Control: no-cache and marks the response', async () => {
    await chat(w, 'Always fresh, please', { tenant: 'fresh' });
    const before = upstream.calls.length;
    const c = await chat(w, 'Always fresh, please', { tenant: 'fresh', headers: { 'cache-control': 'no-cache' } });
    expect(c.headers.get('x-semcache')).toBe('bypass');
    expect(upstream.calls.length - before).toBe(1);
    expect((await chat(w, 'Always fresh, please', { tenant: 'fresh' })).headers.get('x-semcache')).toBe('hit');
  });

  it('still answers when the embeddings API is down (and caches nothing)', async () => {
    embeddings.failNext(503, '{"error":{"message":"embeddings overloaded"}}', 2);
    const r = await chat(w, 'A question while embeddings are down', { tenant: 'down' });
    expect(r.status).toBe(200);
    expect((await r.json()).choices[0].message.content).toMatch(/^Answer/);
    expect(r.headers.get('x-semcache')).toBe('miss');
    expect((await stats(w, 'down')).entries).toBe(0);
  });

  it('answers concurrent requests to one shard, each stored once', async () => {
    // Questions with no words in common (bag-of-words vectors would otherwise match each other).
    const topics = Array.from({ length: 16 }, (_, i) => `Alpha${i} beta${i} gamma${i} delta${i}?`);
    const before = upstream.calls.length;
    const res = await Promise.all(topics.map((t) => chat(w, t, { tenant: 'busy' })));
    expect(res.map((r) => r.status)).toEqual(topics.map(() => 200));
    expect(upstream.calls.length - before).toBe(16);
    expect((await stats(w, 'busy')).entries).toBe(16);
    const again = await Promise.all(topics.map((t) => chat(w, t.toLowerCase().split(/\W+/).reverse().join(' '), { tenant: 'busy' })));
    expect(again.map((r) => r.headers.get('x-semcache'))).toEqual(topics.map(() => 'hit'));
    expect(upstream.calls.length - before).toBe(16);
  });

  it('has the cache endpoints: get, put, stats, flush, clear', async () => {
    const t = 'endpoints';
    expect((await (await post(w, '/cache/put', { prompt: 'How many legs does a spider have?', answer: 'Eight.' }, t)).json()).id).toBeGreaterThan(0);
    const got = await (await post(w, '/cache/get', { prompt: 'how many legs does a spider have exactly' }, t)).json();
    expect(got).toMatchObject({ hit: true, answer: 'Eight.' });
    expect((await post(w, '/cache/flush', {}, t)).status).toBe(200);
    const s = await stats(w, t);
    expect(s).toMatchObject({ entries: 1, store: 'durable-object', shards: 1, dimensions: 64, snapshotsCurrent: 1 });
    expect(await (await post(w, '/cache/clear', {}, t)).json()).toEqual({ removed: 1 });
    expect((await stats(w, t)).entries).toBe(0);
  });
});

describe('sharding', () => {
  it('puts each scope in one of a tenant\'s shards and still finds every paraphrase', async () => {
    const w = await startWorker(tmpdir(), { SHARDS_PER_TENANT: '4' });
    try {
      const models = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f'];
      const scopeOf = async (model: string) => {
        const k = await requestKey('chat', { model, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Which river is the longest?' }] }, { tenant: 'big' });
        if (!('scope' in k)) throw new Error(k.bypass);
        return k.scope;
      };
      const shards = new Set(await Promise.all(models.map(async (m) => shardOf(await scopeOf(m), 4))));
      expect(shards.size).toBeGreaterThan(1);  // the scopes really are spread
      const before = upstream.calls.length;
      for (const model of models) expect((await chat(w, 'Which river is the longest?', { tenant: 'big', extra: { model } })).headers.get('x-semcache')).toBe('miss');
      for (const model of models) expect((await chat(w, 'which river is the longest one', { tenant: 'big', extra: { model } })).headers.get('x-semcache')).toBe('hit');
      expect(upstream.calls.length - before).toBe(models.length);
      const s = await stats(w, 'big');
      expect(s).toMatchObject({ shards: 4, entries: models.length, hits: models.length });
    } finally {
      await w.mf.dispose();
    }
  });
});

describe('snapshot alarm', () => {
  it('saves the index snapshot after a write, from the object\'s alarm', async () => {
    const w = await startWorker(tmpdir(), { SNAPSHOT_DELAY_MS: '200' });
    try {
      expect((await post(w, '/cache/put', { prompt: 'Is the snapshot saved?', answer: 'Soon.' }, 'alarm')).status).toBe(200);
      expect((await stats(w, 'alarm')).snapshotsCurrent).toBe(0);
      let current = 0;
      for (let i = 0; i < 100 && !current; i++) {
        await new Promise((r) => setTimeout(r, 50));
        current = (await stats(w, 'alarm')).snapshotsCurrent;
      }
      expect(current).toBe(1);
    } finally {
      await w.mf.dispose();
    }
  });
});

describe('memory bound', () => {
  it('closes the least recently used idle shard past MAX_SHARDS_PER_ISOLATE, and reopens it from its rows', async () => {
    const w = await startWorker(tmpdir(), { MAX_SHARDS_PER_ISOLATE: '2', EMBEDDINGS_DIMENSIONS: '64' });
    try {
      const tenants = ['t1', 't2', 't3', 't4'];
      const before = upstream.calls.length;
      for (const t of tenants) expect((await chat(w, `What does tenant ${t} sell?`, { tenant: t })).headers.get('x-semcache')).toBe('miss');
      for (const t of tenants) {
        const r = await chat(w, `what does tenant ${t} sell exactly`, { tenant: t });
        expect(r.headers.get('x-semcache'), t).toBe('hit');
      }
      expect(upstream.calls.length - before).toBe(tenants.length);
      // Counters start again when a cache reopens: fewer than the 8 lookups made means shards were closed.
      let lookups = 0;
      for (const t of tenants) {
        const st = await stats(w, t);
        expect(st.entries).toBe(1);
        lookups += st.lookups;
      }
      expect(lookups).toBeLessThan(2 * tenants.length);
    } finally {
      await w.mf.dispose();
    }
  });
});

describe('restart', () => {
  it('keeps the cache across a restart of the runtime (rows, then snapshot)', async () => {
    const dir = tmpdir();
    const q = 'How far away is the Moon from the Earth?';
    let w = await startWorker(dir);
    const before = upstream.calls.length;
    try {
      expect((await chat(w, q, { tenant: 'persist' })).headers.get('x-semcache')).toBe('miss');
      expect((await chat(w, 'Tell me a joke about owls', { tenant: 'persist', extra: { stream: true } })).status).toBe(200);
      await entries(w, 'persist', 2);
    } finally {
      await w.mf.dispose();
    }
    // Restart 1: no snapshot was written (its alarm is 30 s away): rebuilt from the rows.
    w = await startWorker(dir);
    try {
      const embedBefore = embeddings.calls.length;
      // reworded (not the same normalized text, which would be an exact hit with no embedding)
      const r = await chat(w, 'how far away is the moon from earth', { tenant: 'persist' });
      expect(r.headers.get('x-semcache')).toBe('hit');
      // The dimensions came from the stored rows: one embeddings call (the lookup), no probe.
      expect(embeddings.calls.length - embedBefore).toBe(1);
      const s = await chat(w, 'tell me a joke about owls please', { tenant: 'persist', extra: { stream: true } });
      expect(s.headers.get('x-semcache')).toBe('hit');
      expect((await sse(s)).done).toBe(true);
      expect((await stats(w, 'persist')).snapshotsCurrent).toBe(0);  // this start rebuilt from rows
      expect((await post(w, '/cache/flush', {}, 'persist')).status).toBe(200);
    } finally {
      await w.mf.dispose();
    }
    // Restart 2: from the flushed snapshot.
    w = await startWorker(dir);
    try {
      expect((await chat(w, 'how far away is the moon from earth', { tenant: 'persist' })).headers.get('x-semcache')).toBe('hit');
      expect(await stats(w, 'persist')).toMatchObject({ entries: 2, snapshotsCurrent: 1 });
    } finally {
      await w.mf.dispose();
    }
    expect(upstream.calls.length - before).toBe(2);
  });
});
