// One LLM call for a burst of similar misses: getOrCompute, cache.begin and the HTTP handler
// (npm start's server and the edge worker share it) over real HTTP on loopback, in front of a
// fake upstream that counts calls and can be slowed down.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { createHandler, remoteUpstream } from '../../dist/server/handler.js';
import { serveHandler, type NodeServer } from '../../dist/server/node-http.js';
import { upstreamAndCache } from './fake-upstream.js';
import { BURST } from './burst-prompts.mjs';
import { toyEmbedder, toyVector } from './helpers.js';

describe('the burst prompts', () => {
  it('are pairwise above the tests\' 0.8 threshold, so that whichever leads a burst the others join it', () => {
    const v = BURST.map((q) => toyVector(q, 64));
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0, x = 0, y = 0;
      for (let i = 0; i < a.length; i++) (d += a[i]! * b[i]!), (x += a[i]! * a[i]!), (y += b[i]! * b[i]!);
      return d / Math.sqrt(x * y);
    };
    const below: string[] = [];
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) if (cos(v[i]!, v[j]!) < 0.81) below.push(`${BURST[i]} / ${BURST[j]}`);
    expect(below).toEqual([]);
  });
});

describe('getOrCompute', () => {
  let cache: SemanticCache;
  beforeEach(async () => {
    cache = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8 });
  });
  afterAll(async () => cache?.close());

  it('calls compute once for 20 concurrent paraphrases; the others get its answer', async () => {
    let calls = 0;
    const compute = async (p: string) => {
      calls++;
      await new Promise((r) => setTimeout(r, 150));
      return `the answer to ${p}`;
    };
    const results = await Promise.all(BURST.map((p) => cache.getOrCompute(p, compute)));
    expect(calls).toBe(1);
    const leader = results.filter((r) => !r.hit);
    expect(leader).toHaveLength(1);
    const joined = results.filter((r) => r.joined);
    expect(joined).toHaveLength(19);
    for (const r of joined) {
      expect(r.answer).toBe(leader[0]!.answer);
      expect(r.hit).toBe(true);
      expect(r.similarity).toBeGreaterThan(0.8);
    }
    expect((await cache.stats()).entries).toBe(1);
    // a different question in the same burst is not held back
    const other = await Promise.all([cache.getOrCompute('how tall is mount everest', compute), cache.getOrCompute(BURST[0]!, compute)]);
    expect(other[0].hit).toBe(false);
    expect(other[1].hit).toBe(true);
    expect(calls).toBe(2);
  });

  it('lets the waiters through when the first call fails', async () => {
    let calls = 0;
    const compute = async (p: string) => {
      const n = ++calls;
      await new Promise((r) => setTimeout(r, 100));
      if (n === 1) throw new Error('the LLM is down');
      return `the answer to ${p}`;
    };
    const results = await Promise.allSettled(BURST.slice(0, 5).map((p) => cache.getOrCompute(p, compute)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(calls).toBe(5);
  });

  it('waits at most joinWaitMs, then calls compute itself', async () => {
    const c = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8, joinWaitMs: 50 });
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 400));
      return 'slow answer';
    };
    const t0 = Date.now();
    const second = (async () => {
      await new Promise((r) => setTimeout(r, 20));
      return c.getOrCompute(BURST[1]!, compute);
    })();
    const [a, b] = await Promise.all([c.getOrCompute(BURST[0]!, compute), second]);
    expect(calls).toBe(2);
    expect(a.hit || b.hit).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
    await c.close();
  });

  it('joinWaitMs 0 never joins', async () => {
    const c = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8, joinWaitMs: 0 });
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return 'x';
    };
    await Promise.all(BURST.slice(0, 3).map((p) => c.getOrCompute(p, compute)));
    expect(calls).toBe(3);
    await c.close();
  });

  it('begin: pieces reach a joined call as the leader produces them', async () => {
    const lead = await cache.begin(BURST[0]!);
    expect(lead.hit).toBe(false);
    const join = await cache.begin(BURST[1]!);
    if (lead.hit || join.hit || !lead.lead || !join.join) throw new Error('expected a leader and a joined call');
    lead.lead.piece('Par');
    expect(await join.join.next(0)).toEqual({ pieces: ['Par'] });
    const later = join.join.next(1);
    lead.lead.piece('is.');
    expect(await later).toEqual({ pieces: ['is.'] });
    const stored = await lead.lead.done('Paris.', { metadata: { chunks: ['Par', 'is.'] } });
    expect(await join.join.next(2)).toEqual({ pieces: [], end: { answer: 'Paris.', metadata: { chunks: ['Par', 'is.'] }, id: null } });
    const hit = await cache.get(BURST[2]!);
    expect(hit.hit && hit.id).toBe(stored.id);
  });
});

describe('through the HTTP handler', () => {
  const ctx = upstreamAndCache();
  let server: NodeServer;
  beforeAll(async () => {
    server = await serveHandler(createHandler({ cache: ctx.cache, upstream: remoteUpstream(ctx.upstream.url, { apiKey: 'sk-server' }) }));
  });
  afterAll(async () => server?.close());

  const chat = (content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
    });

  it('20 concurrent paraphrases of one uncached question: exactly 1 upstream call', async () => {
    ctx.upstream.delayMs = 1000;  // long enough that all 20 arrive while the first is in flight, even on a busy machine
    const res = await Promise.all(BURST.map((q) => chat(q)));
    expect(ctx.upstream.calls).toHaveLength(1);
    const bodies = await Promise.all(res.map((r) => r.json()));
    expect(new Set(bodies.map((b) => b.choices[0].message.content)).size).toBe(1);
    expect(res.map((r) => r.headers.get('x-semcache')).sort()).toEqual([...Array(19).fill('hit'), 'miss']);
    // they joined the call in flight (any that looked up after it was stored simply hit)
    expect(res.filter((r) => r.headers.get('x-semcache-joined') === 'true').length).toBeGreaterThan(0);
  });

  it('a failing first call lets the waiters through', async () => {
    ctx.upstream.delayMs = 300;
    ctx.upstream.failNext(500, '{"error":{"message":"overloaded"}}');
    const res = await Promise.all(BURST.slice(0, 6).map((q) => chat(q)));
    expect(res.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 500]);
    expect(ctx.upstream.calls).toHaveLength(6);
  });

  it('streamed waiters receive the stream as it is produced', async () => {
    ctx.upstream.pieceDelayMs = 150;
    const t0 = Date.now();
    const first = chat(BURST[0]!, { stream: true });
    await new Promise((r) => setTimeout(r, 50));
    const second = await chat(BURST[1]!, { stream: true });
    expect(second.headers.get('x-semcache-joined')).toBe('true');
    const arrivals: { t: number; text: string }[] = [];
    const reader = second.body!.getReader();
    const dec = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      for (const line of dec.decode(r.value).split('\n')) {
        if (!line.startsWith('data: {')) continue;
        const t = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
        if (t) arrivals.push({ t: Date.now() - t0, text: t });
      }
    }
    const leader = await (await first).text();
    expect(arrivals.map((a) => a.text)).toEqual(['Ans', 'wer', ' #34 from m.']);
    // pieces 150 ms apart upstream arrive apart here too: not all at once at the end
    expect(arrivals.at(-1)!.t - arrivals[0]!.t).toBeGreaterThan(200);
    expect(leader).toContain('[DONE]');
    expect(ctx.upstream.calls).toHaveLength(1);
  });
});
