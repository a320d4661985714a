// Caches shipped between Node and the edge worker (workerd, Miniflare): a Node cache exported to
// the edge's POST /cache/import, the edge's GET /cache/export imported in Node, a damaged file
// refused by the edge with nothing kept, and the edge as a Node cache's `next` tier. Both sides
// embed through the same fake embeddings API, so they share the embedder's id and vectors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCache, remoteCache } from 'semcache';
import { remoteEmbedder } from '../../dist/edge/index.js';
import { readExport } from '../../dist/transfer/format.js';
import { startFakeEmbeddings, startFakeUpstream } from './fake-servers.mjs';
import { edgeMiniflare } from './miniflare.mjs';

const ADMIN = 'admin-token-for-edge-transfer';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-edge-transfer-'));
type Fake = Awaited<ReturnType<typeof startFakeUpstream>>;
let upstream: Fake;
let embeddings: Fake;
let mf: ReturnType<typeof edgeMiniflare>;
let url: string;
const caches: SemanticCache[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  embeddings = await startFakeEmbeddings({ dim: 64 });
  mf = edgeMiniflare({ persist: dir, upstreamUrl: upstream.url, embeddingsUrl: embeddings.url, vars: { ADMIN_TOKEN: ADMIN, SHARDS_PER_TENANT: '2' } });
  url = (await mf.ready).toString().replace(/\/$/, '');
});
afterAll(async () => {
  for (const c of caches) await c.close().catch(() => {});
  await mf?.dispose();
  await upstream?.close();
  await embeddings?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function nodeCache(extra: Record<string, unknown> = {}) {
  const c = await SemanticCache.open({ embedder: remoteEmbedder({ url: embeddings.url, model: 'toy-bag-of-words' }), threshold: 0.8, ...extra });
  caches.push(c);
  return c;
}

const admin = (tenant: string) => ({ 'x-semcache-admin-token': ADMIN, 'x-semcache-tenant': tenant });
const edgeGet = (tenant: string, prompt: string, scope?: unknown) =>
  fetch(`${url}/cache/get`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-semcache-tenant': tenant }, body: JSON.stringify({ prompt, scope }) }).then((r) => r.json());
const edgeStats = (tenant: string) => fetch(`${url}/cache/stats`, { headers: { 'x-semcache-tenant': tenant } }).then((r) => r.json());

describe('export/import between Node and the edge worker', () => {
  it('Node -> edge: a Node export preheats a tenant of the edge', async () => {
    const a = await nodeCache();
    for (let i = 0; i < 30; i++) await a.put(`preheated question ${i} about subject ${i * 31}`, `answer ${i}`, { scope: `ns${i % 4}` });
    const bytes = new Uint8Array(await new Response(a.export()).arrayBuffer());
    const res = await fetch(`${url}/cache/import`, { method: 'POST', headers: { ...admin('shop'), 'content-type': 'application/octet-stream' }, body: bytes });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ imported: 30, expired: 0 });
    expect((await edgeStats('shop')).entries).toBe(30);
    expect(await edgeGet('shop', 'preheated question 7 about subject 217', 'ns3')).toMatchObject({ hit: true, answer: 'answer 7' });
    expect(await edgeGet('other', 'preheated question 7 about subject 217', 'ns3')).toMatchObject({ hit: false });
  });

  it('edge -> Node: the edge exports a tenant (all its shards) and a Node cache imports it', async () => {
    const res = await fetch(`${url}/cache/export`, { headers: admin('shop') });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    let header: unknown;
    let n = 0;
    for await (const it of readExport(bytes)) {
      if ('header' in it) header = it.header;
      if ('entry' in it) n++;
    }
    expect(header).toMatchObject({ embedder: 'remote:toy-bag-of-words', dimensions: 64, tenant: 'shop' });
    expect(n).toBe(30);
    const b = await nodeCache();
    expect(await b.import(bytes)).toEqual({ imported: 30, expired: 0 });
    // the edge's scopes carry its tenant
    expect(await b.get('preheated question 12 about subject 372', { scope: { namespace: 'ns0', tenant: 'shop' } })).toMatchObject({ hit: true, answer: 'answer 12' });
    // one scope only
    const one = await fetch(`${url}/cache/export?scope=ns1`, { headers: admin('shop') });
    let m = 0;
    for await (const it of readExport(new Uint8Array(await one.arrayBuffer()))) if ('entry' in it) m++;
    expect(m).toBe(8);  // i % 4 === 1 for i < 30
  });

  it('the edge refuses a damaged file and a foreign embedder, keeping nothing', async () => {
    const a = await nodeCache();
    for (let i = 0; i < 300; i++) await a.put(`bulk ${i} for the damaged file number ${i * 17}`, `bulk answer ${i}`, { scope: `s${i % 3}` });
    const bytes = new Uint8Array(await new Response(a.export()).arrayBuffer());
    const bad = bytes.slice();
    bad[bad.length - 200]! ^= 0x04;
    const r = await fetch(`${url}/cache/import`, { method: 'POST', headers: { ...admin('damaged'), 'content-type': 'application/octet-stream' }, body: bad });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe('CORRUPT_EXPORT');
    expect((await edgeStats('damaged')).entries).toBe(0);

    const foreign = await SemanticCache.open({ embedder: { id: 'some-other-model', dimensions: 64, embed: async (t: string[]) => t.map(() => Float32Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0))) } });
    caches.push(foreign);
    await foreign.put('anything', 'at all');
    const f = await fetch(`${url}/cache/import`, { method: 'POST', headers: { ...admin('damaged'), 'content-type': 'application/octet-stream' }, body: new Uint8Array(await new Response(foreign.export()).arrayBuffer()) });
    expect(f.status).toBe(409);
    expect((await f.json()).error.code).toBe('STORE_MISMATCH');
    expect((await edgeStats('damaged')).entries).toBe(0);
  });

  it('the edge worker as the next tier of a Node cache (remoteCache)', async () => {
    const c = await nodeCache({ next: remoteCache({ url, headers: admin('tiered') }) });
    let computed = 0;
    const first = await c.getOrCompute('Which planet is the largest?', async () => (computed++, 'Jupiter'));
    expect(first).toMatchObject({ tier: 'compute', answer: 'Jupiter' });
    expect(first.cacheError).toBeUndefined();
    expect(await edgeGet('tiered', 'which planet is the largest')).toMatchObject({ hit: true, answer: 'Jupiter' });
    const device2 = await nodeCache({ next: remoteCache({ url, headers: { 'x-semcache-tenant': 'tiered' } }) });
    expect(await device2.getOrCompute('which planet is the largest', async () => (computed++, 'x'))).toMatchObject({ tier: 'next', answer: 'Jupiter' });
    expect(computed).toBe(1);
  });
});
