// Tiers: a local cache whose `next` is a semcache server (our handler on a real loopback HTTP
// server), reached through remoteCache. Every request the server sees is recorded, so "a private
// scope never reaches the remote" is checked on the wire.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SemanticCache, SemcacheError, remoteCache } from 'semcache';
import { createHandler, remoteUpstream } from '../../dist/server/handler.js';
import { serveHandler, type NodeServer } from '../../dist/server/node-http.js';
import { toyEmbedder } from './helpers.js';

const ADMIN = 'tiers-test-admin-token';
const embedder = { id: 'toy-64', dimensions: 64, embed: toyEmbedder(64) };

let remote: SemanticCache;
let server: NodeServer;
const seen: { path: string; body: string }[] = [];
const locals: SemanticCache[] = [];

beforeAll(async () => {
  remote = await SemanticCache.open({ embedder, threshold: 0.8 });
  const handler = createHandler({ cache: remote, upstream: remoteUpstream('http://127.0.0.1:9', { apiKey: 'unused' }), adminToken: ADMIN });
  server = await serveHandler(async (request, info) => {
    seen.push({ path: new URL(request.url).pathname, body: await request.clone().text() });
    return handler(request, info);
  });
});
afterAll(async () => {
  for (const c of locals) await c.close().catch(() => {});
  await server?.close();
  await remote?.close();
});
beforeEach(async () => {
  await remote.clear();
  seen.length = 0;
});

async function local(options: Partial<Parameters<typeof SemanticCache.open>[0]> = {}) {
  const c = await SemanticCache.open({
    embedder,
    threshold: 0.8,
    next: remoteCache({ url: server.url, headers: { 'x-semcache-admin-token': ADMIN } }),
    ...options,
  });
  locals.push(c);
  return c;
}

/** An entry on the server, as any other client (with the admin token) would put it. */
async function putRemote(prompt: string, answer: string, scope?: unknown) {
  const res = await fetch(`${server.url}/cache/put`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-semcache-admin-token': ADMIN },
    body: JSON.stringify({ prompt, answer, scope }),
  });
  expect(res.status).toBe(200);
  seen.length = 0;
}

describe('local miss, remote hit, local hit next time', () => {
  it('get: answers from next, copies the answer here, and the next lookup stays local', async () => {
    await putRemote('What is the capital city of France?', 'Paris', 'geo');
    const c = await local();
    const first = await c.get('what is the capital city of france', { scope: 'geo' });
    expect(first).toMatchObject({ hit: true, answer: 'Paris', tier: 'next' });
    expect(first.hit && first.timings.nextMs).toBeGreaterThan(0);
    expect(seen.map((s) => s.path)).toEqual(['/cache/get']);
    const second = await c.get('what is the capital city of france', { scope: 'geo' });
    expect(second).toMatchObject({ hit: true, answer: 'Paris', tier: 'local', exact: true });
    expect(seen).toHaveLength(1);  // the server was not asked again
    expect((await c.stats()).next).toEqual({ lookups: 1, hits: 1, errors: 0, writes: 0 });
  });

  it('getOrCompute: a remote hit does not compute; a miss everywhere computes once and writes through', async () => {
    await putRemote('How tall is Mount Everest?', '8,849 m');
    const c = await local();
    let computed = 0;
    const compute = async () => `answer ${++computed}`;
    const a = await c.getOrCompute('how tall is mount everest', compute);
    expect(a).toMatchObject({ hit: true, answer: '8,849 m', tier: 'next' });
    expect(computed).toBe(0);
    expect((await c.getOrCompute('how tall is mount everest', compute)).tier).toBe('local');

    const b = await c.getOrCompute('Who painted the Mona Lisa?', compute);
    expect(b).toMatchObject({ hit: false, answer: 'answer 1', tier: 'compute' });
    expect(b.cacheError).toBeUndefined();
    // written through: the server answers it to anyone now
    const onServer = await remote.get('who painted the mona lisa', { scope: { tenant: 'default' } });
    expect(onServer).toMatchObject({ hit: true, answer: 'answer 1' });
    // and a second local cache (another device) gets it from the server without computing
    const other = await local();
    expect(await other.getOrCompute('who painted the mona lisa', compute)).toMatchObject({ answer: 'answer 1', tier: 'next' });
    expect(computed).toBe(1);
  });

  it('begin (adapters, the server): a leading miss asks next, and its own answer is written through', async () => {
    await putRemote('What is the boiling point of water?', '100 °C');
    const c = await local();
    const hit = await c.begin('what is the boiling point of water');
    expect(hit).toMatchObject({ hit: true, answer: '100 °C', tier: 'next' });
    const miss = await c.begin('Why is the sky blue?');
    expect(miss.hit).toBe(false);
    if (miss.hit || !miss.lead) throw new Error('expected a leading miss');
    await miss.lead.done('Rayleigh scattering');
    expect(await c.get('why is the sky blue')).toMatchObject({ hit: true, tier: 'local', answer: 'Rayleigh scattering' });
    expect(await remote.get('why is the sky blue', { scope: { tenant: 'default' } })).toMatchObject({ hit: true, answer: 'Rayleigh scattering' });
  });

  it('put writes shared scopes through; a remote without the admin token is read-only', async () => {
    const c = await local();
    const r = await c.put('Name a prime number', 'seven', { scope: 'math' });
    expect(r.cacheError).toBeUndefined();
    expect(seen.map((s) => s.path)).toEqual(['/cache/put']);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ prompt: 'Name a prime number', answer: 'seven', scope: 'math' });

    seen.length = 0;
    const reader = await local({ next: remoteCache({ url: server.url }) });
    expect((await reader.put('Name an even number', 'four')).cacheError).toBeUndefined();
    expect(await reader.getOrCompute('Name an odd number', () => 'nine')).toMatchObject({ tier: 'compute' });
    expect(seen.map((s) => s.path)).toEqual(['/cache/get']);  // looked up, never written
  });
});

describe('private scopes never leave the device', () => {
  it('a scope the policy calls private is neither looked up nor written on the remote', async () => {
    await putRemote('What is my account balance?', 'the remote must not answer this', { namespace: 'me' });
    const c = await local({ share: (scope) => (typeof scope === 'object' && scope?.namespace === 'me' ? 'private' : 'shared') });
    const g = await c.get('What is my account balance?', { scope: { namespace: 'me' } });
    expect(g.hit).toBe(false);
    expect(g.cacheError).toBeUndefined();
    await c.put('My password hint', 'the name of my first cat', { scope: { namespace: 'me' } });
    const r = await c.getOrCompute('What did I buy yesterday?', () => 'groceries', { scope: { namespace: 'me' } });
    expect(r).toMatchObject({ tier: 'compute', hit: false });
    expect((await c.getOrCompute('What did I buy yesterday?', () => 'x', { scope: { namespace: 'me' } })).tier).toBe('local');
    const b = await c.begin('Where do I live?', { scope: { namespace: 'me' } });
    if (b.hit || !b.lead) throw new Error('expected a leading miss');
    await b.lead.done('at home');
    expect(seen).toEqual([]);
    expect((await c.stats()).next).toEqual({ lookups: 0, hits: 0, errors: 0, writes: 0 });
    // the same prompts in a shared scope do reach it
    await c.get('What is my account balance?', { scope: 'public' });
    expect(seen.map((s) => s.path)).toEqual(['/cache/get']);
  });

  it("share: 'private' keeps every scope here", async () => {
    const c = await local({ share: 'private' });
    await c.put('a', 'b');
    await c.get('c');
    await c.getOrCompute('d', () => 'e');
    expect(seen).toEqual([]);
  });

  it('refuses a policy that is neither private nor shared, at open and per call', async () => {
    await expect(local({ share: 'public' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const c = await local({ share: () => 'everyone' as never });
    await expect(c.get('x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('a remote that fails never fails a lookup', () => {
  it('remote down: get is a miss with cacheError, getOrCompute computes, put keeps the local entry', async () => {
    // a port nothing listens on (the server's, once closed)
    const gone = await serveHandler(async () => new Response('{}'));
    const url = gone.url;
    await gone.close();
    const c = await local({ next: remoteCache({ url, headers: { 'x-semcache-admin-token': ADMIN }, timeoutMs: 2000 }) });
    const g = await c.get('Is anyone there?');
    expect(g.hit).toBe(false);
    expect(g.cacheError).toBeInstanceOf(SemcacheError);
    expect((g.cacheError as SemcacheError).code).toBe('REMOTE_FAILED');
    const errors: Error[] = [];
    const r = await c.getOrCompute('Is anyone there?', () => 'computed here', { onCacheError: (e) => errors.push(e) });
    expect(r).toMatchObject({ answer: 'computed here', tier: 'compute', hit: false });
    expect((r.cacheError as SemcacheError).code).toBe('REMOTE_FAILED');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(r.id).not.toBeNull();  // stored here all the same
    expect(await c.get('Is anyone there?')).toMatchObject({ hit: true, tier: 'local', answer: 'computed here' });
    const p = await c.put('Still here?', 'yes');
    expect((p.cacheError as SemcacheError).code).toBe('REMOTE_FAILED');
    expect(await c.get('Still here?')).toMatchObject({ hit: true, answer: 'yes' });
    expect((await c.stats()).next!.errors).toBeGreaterThanOrEqual(3);
  });

  it('a remote that hangs is cut off at timeoutMs', async () => {
    const slow = await serveHandler(() => new Promise<Response>(() => {}));
    try {
      const c = await local({ next: remoteCache({ url: slow.url, timeoutMs: 150 }) });
      const t0 = performance.now();
      const g = await c.get('Anybody?');
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(g.hit).toBe(false);
      expect((g.cacheError as SemcacheError).code).toBe('REMOTE_FAILED');
      expect((g.cacheError as Error).message).toMatch(/150 ms/);
    } finally {
      await slow.close().catch(() => {});
    }
  });

  it('a remote that answers with an error status is a miss with that error', async () => {
    const c = await local({ next: remoteCache({ url: server.url, headers: { 'x-semcache-admin-token': 'wrong' } }) });
    const g = await c.get('hello there');
    expect(g.hit).toBe(false);
    expect((g.cacheError as SemcacheError).code).toBe('UNAUTHORIZED');
  });

  it("the caller's abort still ends the call", async () => {
    const slow = await serveHandler(() => new Promise<Response>(() => {}));
    try {
      const c = await local({ next: remoteCache({ url: slow.url, timeoutMs: 10_000 }) });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await expect(c.getOrCompute('abort me', () => 'never', { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await slow.close().catch(() => {});
    }
  });
});

describe('remoteCache', () => {
  it('request: looks up and writes under the key of the server\'s /v1/chat/completions', async () => {
    const asChat = (prompt: string) => ({ model: 'm1', messages: [{ role: 'user', content: prompt }] });
    const c = await local({ next: remoteCache({ url: server.url, headers: { 'x-semcache-admin-token': ADMIN }, request: asChat }) });
    expect((await c.getOrCompute('What is the speed of light?', () => '299,792 km/s')).tier).toBe('compute');
    // the server answers that chat request from the entry written through (its upstream is
    // unreachable: a miss would be a 502)
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(asChat('what is the speed of light')) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-semcache')).toBe('hit');
    expect((await res.json()).choices[0].message.content).toBe('299,792 km/s');
    const other = await local({ next: remoteCache({ url: server.url, request: asChat }) });
    expect(await other.get('What is the speed of light?')).toMatchObject({ hit: true, tier: 'next', answer: '299,792 km/s' });
  });

  it('refuses a missing or relative url and a bad timeout', () => {
    expect(() => remoteCache({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => remoteCache({ url: '/cache' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => remoteCache({ url: 'http://x', timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses a next that is not a cache', async () => {
    await expect(SemanticCache.open({ embedder, next: {} as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('another SemanticCache can be the next tier too (in-process)', async () => {
    const shared = await SemanticCache.open({ embedder, threshold: 0.8 });
    locals.push(shared);
    await shared.put('What is two plus two?', 'four');
    const c = await local({ next: shared });
    expect(await c.get('what is two plus two')).toMatchObject({ hit: true, tier: 'next', answer: 'four' });
  });
});
