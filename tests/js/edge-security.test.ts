// Issue 15's holes against the edge worker (workers/edge/worker.mjs in workerd, Miniflare from
// npm), as a hostile client on the internet would try them. The Node glue's own holes (Host
// header, static files, streamed body reading) are in server-security.test.ts.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEmbeddings, startFakeUpstream } from './fake-servers.mjs';
import { edgeMiniflare } from './miniflare.mjs';

type Fake = Awaited<ReturnType<typeof startFakeUpstream>>;
let upstream: Fake;
let embeddings: Awaited<ReturnType<typeof startFakeEmbeddings>>;
const dirs: string[] = [];
const workers: { dispose(): Promise<void> }[] = [];
const ADMIN = 'edge-admin-token';
const JSON_TYPE = { 'content-type': 'application/json' };

async function startWorker(vars: Record<string, string>) {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-edge-sec-'));
  dirs.push(persist);
  const mf = edgeMiniflare({ persist, upstreamUrl: upstream.url, embeddingsUrl: embeddings.url, vars });
  workers.push(mf);
  return (await mf.ready).toString().replace(/\/$/, '');
}

const ask = (url: string, content: string, o: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...JSON_TYPE, ...o.headers }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...o.extra }) });
const post = (url: string, p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${p}`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });
const events = async (res: Response) => (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));

beforeAll(async () => {
  upstream = await startFakeUpstream();
  embeddings = await startFakeEmbeddings({ dim: 64 });
});
afterAll(async () => {
  for (const w of workers) await w.dispose();
  await upstream?.close();
  await embeddings?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('edge worker with a server key, an admin token and tenant tokens', () => {
  let url: string;
  const asA = { 'x-semcache-tenant-token': 'tok-a' }, asB = { 'x-semcache-tenant-token': 'tok-b' };
  beforeAll(async () => {
    url = await startWorker({ UPSTREAM_API_KEY: 'sk-server', ADMIN_TOKEN: ADMIN, TENANT_TOKENS: JSON.stringify({ 'tok-a': 'A', 'tok-b': 'B' }) });
  });

  it('1. refuses cross-site and tokenless puts; the victim gets the real answer', async () => {
    const evil = { model: 'm', messages: [{ role: 'user', content: 'How do I reset my password?' }], answer: 'Send it to evil.example' };
    const simple = await fetch(`${url}/cache/put`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example', ...asA }, body: JSON.stringify(evil) });
    expect(simple.status).toBe(403);
    expect(simple.headers.get('x-semcache')).toBe('bypass');
    expect((await post(url, '/cache/put', evil, asA)).status).toBe(401);  // no admin token
    expect((await post(url, '/cache/put', evil, { ...asA, 'x-semcache-admin-token': 'guess' })).status).toBe(401);
    const victim = await ask(url, 'how can I reset my password', { headers: asA });
    expect(victim.headers.get('x-semcache')).toBe('miss');
    expect((await victim.json()).choices[0].message.content).not.toContain('evil');
    expect((await post(url, '/cache/put', { prompt: 'What is the admin FAQ?', answer: 'Here.' }, { ...asA, 'x-semcache-admin-token': ADMIN })).status).toBe(200);
  });

  it("2. tenant B's clear leaves tenant A's entries; stats are per tenant", async () => {
    await ask(url, 'What does tenant A sell?', { headers: asA });
    await ask(url, 'What does tenant B sell?', { headers: asB });
    const a = await (await fetch(`${url}/cache/stats`, { headers: asA })).json();
    expect(await (await post(url, '/cache/clear', {}, asB)).json()).toEqual({ removed: 1 });
    expect((await (await fetch(`${url}/cache/stats`, { headers: asA })).json()).entries).toBe(a.entries);
    expect((await ask(url, 'what does tenant A sell', { headers: asA })).headers.get('x-semcache')).toBe('hit');
    expect((await ask(url, 'x', { headers: { 'x-semcache-tenant': 'A' } })).status).toBe(401);  // a name is not a token
  });

  it('unknown methods get 405 (the edge did already; TRACE and the Host header were the Node glue\'s holes)', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) expect((await fetch(`${url}/cache/put`, { method, headers: asA })).status).toBe(405);
    expect((await fetch(`${url}/v1/chat/completions`, { headers: asA })).status).toBe(405);
  });

  it('5. counts body bytes and refuses deep JSON with a 400', async () => {
    const euros = new TextEncoder().encode(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: '€'.repeat(400_000) }] }));
    const big = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...JSON_TYPE, ...asA },
      body: new ReadableStream({ start: (c) => (c.enqueue(euros), c.close()) }),
      // @ts-expect-error Node's fetch needs this for streamed bodies
      duplex: 'half',
    });
    expect(big.status).toBe(413);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...JSON_TYPE, ...asA }, body: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":${deep}}` });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe('JSON_TOO_DEEP');
  });

  it("6. keeps max_completion_tokens apart and replays 'length', usage and the usage chunk", async () => {
    const q = 'Summarize the edge report for me';
    const short = await (await ask(url, q, { headers: asA, extra: { max_completion_tokens: 2 } })).json();
    expect(short.choices[0].finish_reason).toBe('length');
    expect((await ask(url, q, { headers: asA, extra: { max_completion_tokens: 200 } })).headers.get('x-semcache')).toBe('miss');
    const hit = await ask(url, q, { headers: asA, extra: { max_completion_tokens: 2, stream: true, stream_options: { include_usage: true } } });
    expect(hit.headers.get('x-semcache')).toBe('hit');
    const ev = await events(hit);
    expect(ev.find((e) => e.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('length');
    expect(ev.at(-1)).toMatchObject({ choices: [], usage: short.usage });
    expect((await ask(url, q, { headers: asA, extra: { logprobs: true } })).headers.get('x-semcache')).toBe('bypass');
  });
});

describe('edge worker without an admin token', () => {
  it('1. has the write routes off, even for requests with no Origin', async () => {
    const url = await startWorker({ UPSTREAM_API_KEY: 'sk-server' });
    const r = await post(url, '/cache/put', { prompt: 'q', answer: 'a' });
    expect(r.status).toBe(403);
    expect((await r.json()).error.code).toBe('FORBIDDEN');
    expect((await post(url, '/cache/clear', {}, { 'x-semcache-tenant': 'anyone' })).status).toBe(403);
    expect((await post(url, '/cache/flush', {})).status).toBe(403);
  });
});

describe('edge worker in pass-through mode', () => {
  it('3. returns the upstream\'s 401 to a refused client, not a paying client\'s hit', async () => {
    const url = await startWorker({ ADMIN_TOKEN: ADMIN });
    const paying = { authorization: 'Bearer sk-edge-paying' };
    expect((await ask(url, 'What is in the premium edge report?', { headers: paying })).status).toBe(200);
    expect((await ask(url, 'what is in the premium edge report', { headers: paying })).headers.get('x-semcache')).toBe('hit');
    upstream.rejectKeys.add('Bearer sk-edge-revoked');
    const refused = await ask(url, 'What is in the premium edge report?', { headers: { authorization: 'Bearer sk-edge-revoked' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-semcache')).toBe('miss');
  });

  it('refuses to run without CREDENTIAL_HASH_KEY, saying so', async () => {
    const url = await startWorker({ CREDENTIAL_HASH_KEY: '' });
    const r = await ask(url, 'q');
    expect(r.status).toBe(500);
    expect((await r.json()).error.message).toMatch(/CREDENTIAL_HASH_KEY/);
  });
});

describe('edge worker in front of a broken upstream', () => {
  let silent: http.Server, rude: http.Server;
  beforeAll(async () => {
    silent = http.createServer(() => {});
    rude = http.createServer((req) => req.socket.destroy());
    await Promise.all([silent, rude].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  afterAll(() => {
    silent.closeAllConnections();
    silent.close();
    rude.close();
  });
  const at = (s: http.Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;

  it('5. gives up after UPSTREAM_TIMEOUT_MS with a 504 that carries X-Semcache', async () => {
    const url = await startWorker({ UPSTREAM_API_KEY: 'sk', UPSTREAM_BASE_URL: at(silent), UPSTREAM_TIMEOUT_MS: '300' });
    const r = await ask(url, 'Anyone there at the edge?');
    expect(r.status).toBe(504);
    expect(r.headers.get('x-semcache')).toBe('miss');
  });

  it('6. a connection reset is a 502 that carries X-Semcache', async () => {
    const url = await startWorker({ UPSTREAM_API_KEY: 'sk', UPSTREAM_BASE_URL: at(rude) });
    const r = await ask(url, 'Will the upstream hang up on the edge?');
    expect(r.status).toBe(502);
    expect(r.headers.get('x-semcache')).toBe('miss');
  });
});
