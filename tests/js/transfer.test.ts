// cache.export / cache.import: a Node file store shipped to another cache (through a file on
// disk and through the server's /cache/export and /cache/import), and files that must be refused
// whole: another embedder's, a flipped byte, a truncated one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemanticCache, SemcacheError } from 'semcache';
import { createHandler, remoteUpstream } from '../../dist/server/handler.js';
import { serveHandler, type NodeServer } from '../../dist/server/node-http.js';
import { crc32, readExport } from '../../dist/transfer/format.js';
import { toyEmbedder } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-transfer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (ext = 'sqlite3') => path.join(dir, `f-${++n}.${ext}`);

const toy = { id: 'toy-64', dimensions: 64, embed: toyEmbedder(64) };
const open = (extra: Partial<Parameters<typeof SemanticCache.open>[0]> = {}) => SemanticCache.open({ embedder: toy, threshold: 0.8, ...extra } as Parameters<typeof SemanticCache.open>[0]);
const opened: SemanticCache[] = [];
afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
});
async function keep(p: Promise<SemanticCache>) {
  const c = await p;
  opened.push(c);
  return c;
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A source cache on a file: `count` entries in scope 'bulk', and three special ones. */
async function source(count: number) {
  const c = await keep(open({ storage: 'file', path: file() }));
  for (let i = 0; i < count; i++) await c.put(`bulk question number ${i} about topic ${i * 7919}`, `bulk answer ${i}`, { scope: 'bulk' });
  await c.put('What is the capital city of France?', 'Paris', { scope: { model: 'm1', tenant: 't1' }, metadata: { source: 'atlas', n: 1 } });
  await c.put('How many legs does a spider have?', 'eight', { scope: { model: 'm1', tenant: 't2' }, ttl: 3_600_000 });
  await c.put('This one has already gone', 'stale', { scope: 'bulk', ttl: 1 });
  await new Promise((r) => setTimeout(r, 5));
  return c;
}

describe('round trip: Node file store -> file on disk -> another cache', () => {
  it('carries every live entry with its vector, scope, metadata and expiry', async () => {
    const a = await source(40);
    const out = file('semcache');
    await new Response(a.export()).arrayBuffer().then((b) => fs.writeFileSync(out, Buffer.from(b)));

    const b = await keep(open({ storage: 'file', path: file() }));
    const r = await b.import(fs.createReadStream(out, { highWaterMark: 1000 }));  // a Node stream, in small chunks
    expect(r).toEqual({ imported: 42, expired: 0 });  // the expired one is not even exported
    expect((await b.stats()).entries).toBe(42);
    // semantic hits: the vectors came along (the prompts are not re-embedded: same answers)
    expect(await b.get('what is the capital city of france', { scope: { model: 'm1', tenant: 't1' } })).toMatchObject({ hit: true, answer: 'Paris', metadata: { source: 'atlas', n: 1 } });
    expect(await b.get('bulk question number 17 about topic 134623', { scope: 'bulk' })).toMatchObject({ hit: true, exact: true, answer: 'bulk answer 17' });
    const spider = (await b.entries({ scope: { model: 'm1', tenant: 't2' } }))[0]!;
    expect(spider.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('export({ scope }) takes one scope; import({ scope }) and import({ tenant }) move entries', async () => {
    const a = await source(5);
    const onlyT1 = await bytesOf(a.export({ scope: { model: 'm1', tenant: 't1' } }));
    const items = [];
    for await (const it of readExport(onlyT1)) items.push(it);
    expect(items.filter((i) => 'entry' in i).map((i) => ('entry' in i ? i.entry.prompt : ''))).toEqual(['What is the capital city of France?']);
    expect(items[0]).toMatchObject({ header: { embedder: 'toy-64', dimensions: 64, format: 'semcache-export' } });

    const byTenant = await bytesOf(a.export({ tenant: 't2' }));
    const b = await keep(open());
    expect(await b.import(byTenant, { tenant: 'elsewhere' })).toEqual({ imported: 1, expired: 0 });
    expect(await b.get('How many legs does a spider have?', { scope: { model: 'm1', tenant: 'elsewhere' } })).toMatchObject({ hit: true, answer: 'eight' });
    expect((await b.get('How many legs does a spider have?', { scope: { model: 'm1', tenant: 't2' } })).hit).toBe(false);

    const c = await keep(open());
    await c.import(new Blob([await bytesOf(a.export({ scope: 'bulk' }))]), { scope: 'moved' });
    expect((await c.stats()).entries).toBe(5);
    expect(await c.get('bulk question number 3 about topic 23757', { scope: 'moved' })).toMatchObject({ hit: true });
  });
});

describe('refused imports change nothing', () => {
  let file600: Uint8Array;
  beforeAll(async () => {
    const a = await source(600);  // more than two import batches
    file600 = await bytesOf(a.export());
  });

  /** A target with entries of its own, one of them a prompt the file would replace. */
  async function target() {
    const path_ = file();
    const t = await keep(open({ storage: 'file', path: path_ }));
    await t.put('What is the capital city of France?', 'mine, not the file’s', { scope: { model: 'm1', tenant: 't1' } });
    await t.put('Something only the target knows', 'local answer');
    return { t, path: path_ };
  }

  async function unchanged(t: SemanticCache, path_: string) {
    expect((await t.stats()).entries).toBe(2);
    expect(await t.get('What is the capital city of France?', { scope: { model: 'm1', tenant: 't1' } })).toMatchObject({ hit: true, answer: 'mine, not the file’s' });
    expect(await t.get('Something only the target knows')).toMatchObject({ hit: true, answer: 'local answer' });
    // and on disk: a reopen sees the same two entries
    await t.close();
    const again = await keep(open({ storage: 'file', path: path_ }));
    expect((await again.stats()).entries).toBe(2);
    expect(await again.get('What is the capital city of France?', { scope: { model: 'm1', tenant: 't1' } })).toMatchObject({ answer: 'mine, not the file’s' });
  }

  async function refused(bytes: Uint8Array, code: string, pattern?: RegExp) {
    const { t, path: p } = await target();
    const err = await t.import(bytes).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SemcacheError);
    expect((err as SemcacheError).code).toBe(code);
    if (pattern) expect((err as Error).message).toMatch(pattern);
    await unchanged(t, p);
  }

  it('a foreign embedder (STORE_MISMATCH), before anything is written', async () => {
    const other = await keep(open({ embedder: { id: 'another-model', dimensions: 64, embed: toyEmbedder(64) } }));
    await other.put('What is the capital city of France?', 'from another model');
    await refused(await bytesOf(other.export()), 'STORE_MISMATCH', /another-model/);
    const wide = await keep(open({ embedder: { id: 'toy-64', dimensions: 32, embed: toyEmbedder(32) } }));
    await wide.put('x', 'y');
    await refused(await bytesOf(wide.export()), 'STORE_MISMATCH', /32-d/);
  });

  it('a flipped byte late in the file (after two batches went in): CORRUPT_EXPORT, all taken back', async () => {
    const bad = file600.slice();
    bad[bad.length - 400]! ^= 0x10;
    await refused(bad, 'CORRUPT_EXPORT', /checksum/);
  });

  it('a flipped byte in the first entry, and in the header', async () => {
    for (const at of [12 + 5 + 30, 200]) {
      const bad = file600.slice();
      bad[at]! ^= 0x01;
      await refused(bad, 'CORRUPT_EXPORT');
    }
  });

  it('truncated anywhere (mid-frame, at a frame boundary before the end frame, empty)', async () => {
    await refused(file600.slice(0, file600.length - 1000), 'CORRUPT_EXPORT', /truncated/);
    // drop exactly the end frame: every remaining frame checks out, the file is still incomplete
    const endLen = 5 + new DataView(file600.buffer, file600.byteOffset).getUint32(lastFrameAt(file600) + 1, true) + 4;
    await refused(file600.slice(0, file600.length - endLen), 'CORRUPT_EXPORT', /no end frame/);
    await refused(new Uint8Array(0), 'CORRUPT_EXPORT');
  });

  it('not an export at all, bytes after the end, and a newer format version', async () => {
    await refused(new TextEncoder().encode('{"this":"is json"}'), 'CORRUPT_EXPORT', /magic/);
    const longer = new Uint8Array(file600.length + 3);
    longer.set(file600);
    await refused(longer, 'CORRUPT_EXPORT', /follow the end/);
    const newer = file600.slice();
    new DataView(newer.buffer).setUint32(8, 99, true);
    await refused(newer, 'UNSUPPORTED_VERSION', /version 99/);
  });

  it('a whole file imports fine into the same kind of target (the refusals were the damage)', async () => {
    const { t } = await target();
    expect(await t.import(file600)).toEqual({ imported: 602, expired: 0 });
    expect((await t.stats()).entries).toBe(603);  // the file's copy replaced the target's France
    expect(await t.get('What is the capital city of France?', { scope: { model: 'm1', tenant: 't1' } })).toMatchObject({ answer: 'Paris' });
  });

  it('crc32 is the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

/** Offset of the last frame (the end frame), found by walking the frames. */
function lastFrameAt(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  let last = at;
  while (at < bytes.length) {
    last = at;
    at += 5 + dv.getUint32(at + 1, true) + 4;
  }
  return last;
}

describe('through the server: GET /cache/export and POST /cache/import (admin only)', () => {
  const ADMIN = 'transfer-admin-token';
  const servers: NodeServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  async function serve(cache: SemanticCache) {
    const s = await serveHandler(createHandler({ cache, upstream: remoteUpstream('http://127.0.0.1:9', { apiKey: 'unused' }), adminToken: ADMIN }));
    servers.push(s);
    return s;
  }
  const admin = { 'x-semcache-admin-token': ADMIN };

  it('exports one tenant from one server and preheats another with it', async () => {
    const a = await keep(open({ storage: 'file', path: file() }));
    const from = await serve(a);
    for (const [tenant, prompt, answer] of [
      ['acme', 'How do I reset my password?', 'Use the link on the sign-in page.'],
      ['acme', 'Where is my invoice?', 'Under Billing.'],
      ['globex', 'What are your opening hours?', 'Nine to five.'],
    ]) {
      const r = await fetch(`${from.url}/cache/put`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json', 'x-semcache-tenant': tenant! }, body: JSON.stringify({ prompt, answer }) });
      expect(r.status).toBe(200);
    }
    // no admin token: refused (every prompt of a tenant would leave)
    const anon = await fetch(`${from.url}/cache/export`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect([401, 403]).toContain(anon.status);
    const res = await fetch(`${from.url}/cache/export`, { headers: { ...admin, 'x-semcache-tenant': 'acme' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const prompts: string[] = [];
    for await (const it of readExport(bytes)) if ('entry' in it) prompts.push(it.entry.prompt);
    expect(prompts.sort()).toEqual(['How do I reset my password?', 'Where is my invoice?']);

    const b = await keep(open());
    const to = await serve(b);
    const refusedAnon = await fetch(`${to.url}/cache/import`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-forwarded-for': '203.0.113.9' }, body: bytes });
    expect([401, 403]).toContain(refusedAnon.status);
    const wrongType = await fetch(`${to.url}/cache/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: bytes });
    expect(wrongType.status).toBe(415);
    const imp = await fetch(`${to.url}/cache/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/octet-stream', 'x-semcache-tenant': 'initech' }, body: bytes });
    expect(imp.status).toBe(200);
    expect(await imp.json()).toEqual({ imported: 2, expired: 0 });
    // the entries landed in the importing caller's tenant, and nowhere else
    const get = (tenant: string) =>
      fetch(`${to.url}/cache/get`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-semcache-tenant': tenant }, body: JSON.stringify({ prompt: 'how do i reset my password' }) }).then((r) => r.json());
    expect(await get('initech')).toMatchObject({ hit: true, answer: 'Use the link on the sign-in page.' });
    expect(await get('acme')).toMatchObject({ hit: false });

    // a damaged body is refused with its code, and nothing of it stays
    const bad = bytes.slice();
    bad[bad.length - 30]! ^= 0xff;
    const r = await fetch(`${to.url}/cache/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/octet-stream', 'x-semcache-tenant': 'umbrella' }, body: bad });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe('CORRUPT_EXPORT');
    expect(await get('umbrella')).toMatchObject({ hit: false });
    expect((await b.stats()).entries).toBe(2);
  });

  it('refuses an import over the size limit while it streams (413), keeping nothing', async () => {
    const a = await source(600);
    const bytes = await bytesOf(a.export());
    const b = await keep(open());
    const s = await serveHandler(createHandler({ cache: b, upstream: remoteUpstream('http://127.0.0.1:9', { apiKey: 'unused' }), adminToken: ADMIN, maxImportBytes: Math.floor(bytes.length * 0.8) }));
    servers.push(s);
    // streamed (no content-length): the limit is met while reading, after the first batch went in
    const cut = Math.floor(bytes.length * 0.6);
    const body = Readable.toWeb(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)])) as ReadableStream<Uint8Array>;
    const r = await fetch(`${s.url}/cache/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/octet-stream' }, body, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect((await b.stats()).entries).toBe(0);
  });
});
