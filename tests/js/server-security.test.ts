// Issue 15's holes, each reproduced as a hostile client would, against the shared handler served
// by node:http (the Node server's glue; the edge worker's run in workerd: edge-security.test.ts).
// Every test here failed on main b906b86 (see docs/security.md) and must pass now.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { DRAIN_FACTOR, readJsonBody } from '../../dist/server/body.js';
import { createHandler, remoteUpstream, type HandlerOptions } from '../../dist/server/handler.js';
import { serveHandler } from '../../dist/server/node-http.js';
import { staticFiles } from '../../dist/server/static.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { toyEmbedder } from './helpers.js';

let upstream: FakeUpstream;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  for (const o of open.reverse()) await o.close();
  await upstream?.close();
});

type Options = Partial<HandlerOptions> & { apiKey?: string; upstreamUrl?: string };
async function start(o: Options = {}) {
  const cache = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8 });
  const apiKey = 'apiKey' in o ? o.apiKey : 'sk-server';
  const handler = createHandler({ cache, upstream: remoteUpstream(o.upstreamUrl ?? upstream.url, { apiKey }), credentialHashKey: 'test-key', ...o });
  const server = await serveHandler(handler);
  const port = Number(new URL(server.url).port);
  const s = { url: server.url, port, cache, close: async () => (await server.close(), await cache.close()) };
  open.push(s);
  return s;
}
type Server = Awaited<ReturnType<typeof start>>;

const JSON_TYPE = { 'content-type': 'application/json' };
const ask = (s: Server, content: string, o: { headers?: Record<string, string>; extra?: Record<string, unknown>; path?: string } = {}) =>
  fetch(`${s.url}${o.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: { ...JSON_TYPE, ...o.headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...o.extra }),
  });
const post = (s: Server, p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${p}`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });

/** A request with headers fetch() will not send as given (Host), over a raw socket. */
function raw(port: number, o: { method?: string; path: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path, headers: o.headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('1. cache poisoning from any web page', () => {
  it('refuses a cross-site "simple" put, and the victim still gets the real answer', async () => {
    const s = await start();
    const before = upstream.calls.length;
    const attack = await fetch(`${s.url}/cache/put`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'How do I reset my password?' }], answer: 'Send it to evil.example' }),
    });
    expect(attack.status).toBe(403);
    expect((await attack.json()).error.code).toBe('CROSS_ORIGIN');
    // the same with the right content type
    const json = await post(s, '/cache/put', { prompt: 'How do I reset my password?', answer: 'evil' }, { origin: 'http://evil.example' });
    expect(json.status).toBe(403);
    const victim = await ask(s, 'how can I reset my password');
    expect(victim.headers.get('x-semcache')).toBe('miss');
    expect((await victim.json()).choices[0].message.content).not.toContain('evil');
    expect((await s.cache.stats()).puts).toBe(1);  // the victim's own answer only
    // a cross-site completion does not spend the operator's key
    const spend = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
    expect(spend.status).toBe(403);
    const noOrigin = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' }, body: '{}' });
    expect(noOrigin.status).toBe(403);
    const plain = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
    expect(plain.status).toBe(415);
    expect(upstream.calls.length - before).toBe(1);
  });

  it('needs the admin token for writes when one is configured, compared in full', async () => {
    const s = await start({ adminToken: 'admin-secret' });
    const body = { prompt: 'What is the capital of France?', answer: 'Paris.' };
    expect((await post(s, '/cache/put', body)).status).toBe(401);
    expect((await post(s, '/cache/put', body, { 'x-semcache-admin-token': 'admin-secreT' })).status).toBe(401);
    expect((await post(s, '/cache/flush', {})).status).toBe(401);
    expect((await post(s, '/cache/clear', {})).status).toBe(401);
    expect((await post(s, '/cache/put', body, { 'x-semcache-admin-token': 'admin-secret' })).status).toBe(200);
    expect((await (await post(s, '/cache/get', { prompt: 'what is the capital of france' })).json()).hit).toBe(true);  // lookups are public
  });

  it('without a token, writes only from loopback, same-origin or no Origin, on a loopback Host', async () => {
    const s = await start({ allowedHosts: ['localhost', '127.0.0.1'] });
    expect((await post(s, '/cache/put', { prompt: 'q1', answer: 'a' })).status).toBe(200);
    expect((await post(s, '/cache/put', { prompt: 'q2', answer: 'a' }, { origin: s.url })).status).toBe(200);
    expect((await post(s, '/cache/put', { prompt: 'q3', answer: 'a' }, { origin: 'http://localhost:1' })).status).toBe(403);
    // a reverse proxy on this machine forwards the internet from loopback: not local
    expect((await post(s, '/cache/put', { prompt: 'q5', answer: 'a' }, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(403);
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Origin and Host agree
    const rebound = await raw(s.port, { path: '/cache/put', headers: { host: `evil.example:${s.port}`, origin: `http://evil.example:${s.port}`, ...JSON_TYPE }, body: '{"prompt":"q4","answer":"a"}' });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('HOST_NOT_ALLOWED');
    expect((await s.cache.stats()).entries).toBe(2);
  });

  it('has CORS off by default and on only for the origins named', async () => {
    const off = await start();
    const pre = await fetch(`${off.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const on = await start({ corsOrigins: ['http://app.example'] });
    const ok = await fetch(`${on.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const r = await ask(on, 'Hello from the app', { headers: { origin: 'http://app.example' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('http://app.example');
    // an allowed origin still cannot write without the token
    expect((await post(on, '/cache/put', { prompt: 'x', answer: 'y' }, { origin: 'http://app.example' })).status).toBe(403);
    expect((await ask(on, 'x', { headers: { origin: 'http://other.example' } })).status).toBe(403);
  });
});

describe('2. one tenant wipes all', () => {
  it("tenant B's clear leaves tenant A's entries, and B's stats show B's only", async () => {
    const s = await start({ adminToken: 'adm', tenantTokens: { 'tok-a': 'A', 'tok-b': 'B' } });
    const asA = { 'x-semcache-tenant-token': 'tok-a' }, asB = { 'x-semcache-tenant-token': 'tok-b' };
    await ask(s, 'What does tenant A sell?', { headers: asA });
    await ask(s, 'What is the weather like on Mars?', { headers: asA });
    await ask(s, 'What does tenant B sell?', { headers: asB });
    expect((await (await fetch(`${s.url}/cache/stats`, { headers: asB })).json()).entries).toBe(1);
    expect(await (await post(s, '/cache/clear', {}, asB)).json()).toEqual({ removed: 1 });
    expect((await ask(s, 'what does tenant A sell', { headers: asA })).headers.get('x-semcache')).toBe('hit');
    expect((await (await fetch(`${s.url}/cache/stats`, { headers: asA })).json())).toMatchObject({ tenant: 'A', entries: 2, hits: 1 });
    // the tenant comes from the token: naming another tenant in the header changes nothing
    expect((await (await fetch(`${s.url}/cache/stats`, { headers: { ...asB, 'x-semcache-tenant': 'A' } })).json()).entries).toBe(0);
    expect((await ask(s, 'x', { headers: { 'x-semcache-tenant': 'A' } })).status).toBe(401);
    expect((await ask(s, 'x', { headers: { 'x-semcache-tenant-token': 'tok-c' } })).status).toBe(401);
  });

  it('with unverified tenant names, clear needs write rights and still reaches only the named tenant', async () => {
    const s = await start();  // loopback, no token: the local write rights
    await ask(s, 'What does tenant A sell?', { headers: { 'x-semcache-tenant': 'A' } });
    await ask(s, 'What does tenant B sell?', { headers: { 'x-semcache-tenant': 'B' } });
    expect(await (await post(s, '/cache/clear', {}, { 'x-semcache-tenant': 'B' })).json()).toEqual({ removed: 1 });
    expect((await s.cache.stats()).entries).toBe(1);
    const t = await start({ adminToken: 'adm' });
    expect((await post(t, '/cache/clear', {}, { 'x-semcache-tenant': 'B' })).status).toBe(401);
  });

  it('an authenticating proxy vouches for the tenant header with its secret', async () => {
    const s = await start({ tenantProxySecret: 'proxy-secret' });
    expect((await ask(s, 'q', { headers: { 'x-semcache-tenant': 'A' } })).status).toBe(401);
    const viaProxy = { 'x-semcache-tenant': 'A', 'x-semcache-proxy-secret': 'proxy-secret' };
    expect((await ask(s, 'What does tenant A sell?', { headers: viaProxy })).status).toBe(200);
    expect((await post(s, '/cache/clear', {}, viaProxy)).status).toBe(200);  // its own tenant, no admin
  });
});

describe('3. hits skip the upstream auth', () => {
  it('in pass-through mode a client the upstream refuses gets the upstream\'s 401, not a paying client\'s answer', async () => {
    const s = await start({ apiKey: undefined });
    const paying = await ask(s, 'What is in the premium report?', { headers: { authorization: 'Bearer sk-paying' } });
    expect(paying.status).toBe(200);
    expect((await ask(s, 'what is in the premium report', { headers: { authorization: 'Bearer sk-paying' } })).headers.get('x-semcache')).toBe('hit');
    upstream.rejectKeys.add('Bearer sk-revoked');
    const refused = await ask(s, 'What is in the premium report?', { headers: { authorization: 'Bearer sk-revoked' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-semcache')).toBe('miss');
    expect((await refused.json()).error.code).toBe('invalid_api_key');
    expect(upstream.calls.at(-1)!.auth).toBe('Bearer sk-revoked');
    const anonymous = await ask(s, 'What is in the premium report?');
    expect(anonymous.headers.get('x-semcache')).toBe('miss');
  });

  it('refuses to start in pass-through mode without a credential hash key', () => {
    expect(() => createHandler({ cache: (() => {}) as never, upstream: remoteUpstream(upstream.url) })).toThrow(/credentialHashKey/);
  });
});

describe('4. the Host header reroutes', () => {
  it('routes on the path only; TRACE and a bad Host get 4xx, never 500', async () => {
    const s = await start();
    await post(s, '/cache/put', { prompt: 'Keep me', answer: 'kept' });
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello there' }] });
    const r = await raw(s.port, { path: '/v1/chat/completions', headers: { host: '127.0.0.1/cache/clear?', ...JSON_TYPE }, body });
    expect(r.status).toBe(200);
    expect(r.headers['x-semcache']).toBe('miss');
    expect((await s.cache.stats()).entries).toBe(2);
    const trace = await raw(s.port, { method: 'TRACE', path: '/v1/chat/completions', headers: { host: `127.0.0.1:${s.port}` } });
    expect(trace.status).toBe(405);
    const badHost = await raw(s.port, { path: '/v1/chat/completions', headers: { host: 'x:99999', ...JSON_TYPE }, body });
    expect(badHost.status).toBeLessThan(500);
    expect((await fetch(`${s.url}/cache/stats`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${s.url}/cache/put`)).status).toBe(405);
  });
});

describe('5. unbounded work before the limits', () => {
  it('stops reading a 100 MB chunked body at the limit', async () => {
    const s = await start();
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/v1/chat/completions', headers: JSON_TYPE });
      let sent = 0;
      const chunk = Buffer.alloc(1 << 20, 0x61);
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        res.resume();
        resolve({ status: res.statusCode!, sent });
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      const pump = () => {
        while (!answered && sent < 100 << 20) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      req.write('{"model":"m","messages":[{"role":"user","content":"');
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(32 << 20);  // answered long before the client got to send it all
  });

  it('reads a body a little over the limit to its end before the 413, and cancels one far over it', async () => {
    // A streamed body: `chunks` chunks of 1 KiB; records how far the reader got.
    const body = (chunks: number) => {
      const seen = { pulled: 0, cancelled: false };
      const stream = new ReadableStream<Uint8Array>({
        pull: (c) => (seen.pulled < chunks ? (seen.pulled++, c.enqueue(new Uint8Array(1024).fill(0x61))) : c.close()),
        cancel: () => void (seen.cancelled = true),
      });
      // @ts-expect-error Node's Request needs this for streamed bodies
      return { request: new Request('http://x/', { method: 'POST', body: stream, duplex: 'half' }), seen };
    };
    const limits = { maxBytes: 4096, timeoutMs: 5000, maxDepth: 64 };
    // 8 KiB against a 4 KiB limit: all of it read (so that the client, still writing, gets the 413)
    const near = body(8);
    await expect(readJsonBody(near.request, limits)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(near.seen).toEqual({ pulled: 8, cancelled: false });
    // 1 MiB: read only up to DRAIN_FACTOR times the limit, then cancelled
    const far = body(1024);
    await expect(readJsonBody(far.request, limits)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(far.seen.cancelled).toBe(true);
    expect(far.seen.pulled).toBeLessThanOrEqual(DRAIN_FACTOR * 4 + 2);
  });

  it('counts bytes, not characters', async () => {
    const s = await start();
    const euros = '€'.repeat(400_000);  // 1.2 MB of UTF-8, 400k UTF-16 units
    const enc = new TextEncoder().encode(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: euros }] }));
    const r = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: new ReadableStream({ start: (c) => (c.enqueue(enc), c.close()) }),
      // @ts-expect-error Node's fetch needs this for streamed bodies
      duplex: 'half',
    });
    expect(r.status).toBe(413);
    expect(r.headers.get('x-semcache')).toBe('bypass');
  });

  it('refuses JSON nested too deep with a 400, not a 502', async () => {
    const s = await start();
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: JSON_TYPE, body: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":${deep}}` });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe('JSON_TOO_DEEP');
  });

  it('gives up on a silent upstream after the upstream timeout (504, X-Semcache)', async () => {
    const silent = http.createServer(() => {});  // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const s = await start({ upstreamUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, upstreamTimeoutMs: 300 });
      const t = performance.now();
      const r = await ask(s, 'Anyone there?');
      expect(r.status).toBe(504);
      expect(r.headers.get('x-semcache')).toBe('miss');
      expect((await r.json()).error.code).toBe('UPSTREAM_TIMEOUT');
      expect(performance.now() - t).toBeLessThan(5000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('cuts a request body that trickles in after the body timeout (408)', async () => {
    const s = await start({ bodyTimeoutMs: 300 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/v1/chat/completions', headers: JSON_TYPE });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode!)));
      req.on('error', reject);
      req.write('{"model":');  // and nothing more
    });
    expect(status).toBe(408);
  });
});

describe('6. requests that differ share answers', () => {
  it('keeps max_completion_tokens, frequency_penalty apart and bypasses logprobs', async () => {
    const s = await start();
    const q = 'Summarize the annual report for me';
    expect((await ask(s, q, { extra: { max_completion_tokens: 3 } })).headers.get('x-semcache')).toBe('miss');
    const long = await ask(s, q, { extra: { max_completion_tokens: 200 } });
    expect(long.headers.get('x-semcache')).toBe('miss');
    expect((await long.json()).choices[0].finish_reason).toBe('stop');
    expect((await ask(s, q, { extra: { max_completion_tokens: 200, frequency_penalty: 1 } })).headers.get('x-semcache')).toBe('miss');
    expect((await ask(s, q, { extra: { max_completion_tokens: 200, logprobs: true } })).headers.get('x-semcache')).toBe('bypass');
    expect((await ask(s, q, { extra: { max_completion_tokens: 200, unknown_field: 1 } })).headers.get('x-semcache')).toBe('bypass');
  });

  it("replays a 'length'-cut answer as 'length' with its usage, JSON and streamed (with the usage chunk)", async () => {
    const s = await start();
    const q = 'Tell me everything about the harbour';
    const first = await (await ask(s, q, { extra: { max_tokens: 2 } })).json();
    expect(first.choices[0].finish_reason).toBe('length');
    const hit = await ask(s, q, { extra: { max_tokens: 2 } });
    expect(hit.headers.get('x-semcache')).toBe('hit');
    const replay = await hit.json();
    expect(replay.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: first.choices[0].message.content } });
    expect(replay.usage).toEqual(first.usage);
    const streamed = await ask(s, q, { extra: { max_tokens: 2, stream: true, stream_options: { include_usage: true } } });
    expect(streamed.headers.get('x-semcache')).toBe('hit');
    const events = (await streamed.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
    expect(events.find((e) => e.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('length');
    expect(events.at(-1)).toMatchObject({ choices: [], usage: first.usage });
  });

  it('stores a streamed miss with its finish reason and usage', async () => {
    const s = await start();
    const q = 'Stream me the harbour story';
    const miss = await ask(s, q, { extra: { max_tokens: 3, stream: true, stream_options: { include_usage: true } } });
    const usage = (await miss.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6))).at(-1).usage;
    expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    await new Promise((r) => setTimeout(r, 50));
    const hit = await (await ask(s, q, { extra: { max_tokens: 3 } })).json();
    expect(hit.choices[0].finish_reason).toBe('length');
    expect(hit.usage).toEqual(usage);
  });

  it('passes a batch of prompts to the upstream whole instead of answering the first', async () => {
    const s = await start();
    const before = upstream.calls.length;
    const r = await post(s, '/v1/completions', { model: 'm', prompt: ['a', 'b'] });
    expect(r.headers.get('x-semcache')).toBe('bypass');
    expect(upstream.calls.at(-1)!.body.prompt).toEqual(['a', 'b']);
    expect(upstream.calls.length - before).toBe(1);
  });

  it('marks a connection reset by the upstream: 502 with X-Semcache', async () => {
    const rude = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    try {
      const s = await start({ upstreamUrl: `http://127.0.0.1:${(rude.address() as { port: number }).port}` });
      const r = await ask(s, 'Will the upstream hang up?');
      expect(r.status).toBe(502);
      expect(r.headers.get('x-semcache')).toBe('miss');
      expect((await r.json()).error.code).toBe('UPSTREAM_FAILED');
    } finally {
      rude.close();
    }
  });
});

describe('7. static files follow symlinks', () => {
  it('serves files of the folder and refuses links out of it', async () => {
    // a scratch root laid out like the repository: the demo's folder is served at /
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-static-'));
    const dir = path.join(root, 'web-demo');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-outside-'));
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'ok.txt'), 'fine');
      fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
      fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.txt'));
      fs.symlinkSync(outside, path.join(dir, 'out'));
      fs.symlinkSync(path.join(dir, 'ok.txt'), path.join(dir, 'inside.txt'));
      const files = staticFiles(root, root);
      const server = http.createServer((req, res) => {
        if (!files(req, res)) res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      try {
        expect(await (await fetch(`${base}/ok.txt`)).text()).toBe('fine');
        expect(await (await fetch(`${base}/inside.txt`)).text()).toBe('fine');  // a link that stays inside
        expect((await fetch(`${base}/passwd.txt`)).status).toBe(404);
        expect((await fetch(`${base}/out/secret.txt`)).status).toBe(404);
        expect((await fetch(`${base}/ok.txt`, { headers: { origin: 'http://evil.example' } })).status).toBe(404);
      } finally {
        server.close();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
