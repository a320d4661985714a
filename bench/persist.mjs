#!/usr/bin/env node
// Persistence: durable (awaited, fsynced) puts per second with concurrent callers (group commit
// batches them into transactions), opening 100k entries from the index snapshot and from rows
// only, and database bytes per entry; in Node (SQLite file, better-sqlite3) and in Chromium
// (SQLite on OPFS in a dedicated worker, opfs-sahpool).
//   node bench/persist.mjs [--n 100000] [--dim 384] [--puts 20000] [--lanes 64] [--no-chromium]
// Embedding is excluded (vectors are precomputed). The 100k database is built once in Node from
// rows (the store's own apply), the first open rebuilds the index from rows, close() writes the
// snapshot; Chromium opens copies of that same database imported into OPFS.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NodeSqliteStore, SemanticCache } from 'semcache';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 100_000), dim = arg('--dim', 384), puts = arg('--puts', 20_000), lanes = arg('--lanes', 64);
const chromiumToo = !process.argv.includes('--no-chromium');
const index = { M: 16, efConstruction: 64, efSearch: 64 };
const log = (s) => process.stderr.write(`persist: ${s}\n`);
const work = path.join(root, 'build/bench-persist');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
const centres = Array.from({ length: 256 }, () => Float32Array.from({ length: dim }, gauss));
function vectorOf(i) {
  const c = centres[i % centres.length], v = new Float32Array(dim);
  let s = 0;
  for (let k = 0; k < dim; k++) s += (v[k] = c[k] + 0.3 * gauss()) ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < dim; k++) v[k] *= inv;
  return v;
}
const answer = (i) => `cached answer number ${i}: ${'lorem ipsum dolor sit amet '.repeat(6)}`;
const embedder = { id: 'bench', dimensions: dim, embed: async () => { throw new Error('the bench passes vectors'); } };
const r1 = (x) => Math.round(x * 10) / 10;

// ---- Node ----
async function nodeDurablePuts() {
  const file = path.join(work, 'puts.sqlite3');
  const cache = await SemanticCache.open({ embedder, storage: 'file', path: file, index, maxEntries: 0 });
  const vecs = Array.from({ length: puts }, (_, i) => vectorOf(i));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < puts) {
      const i = next++;
      await cache.put(`durable put ${i}`, answer(i), { vector: vecs[i] });
    }
  }));
  const s = (performance.now() - t0) / 1000;
  await cache.close();
  return puts / s;
}

async function buildRows(file) {
  const store = new NodeSqliteStore(file);
  await store.open({ dimensions: dim, space: 'f32', embedder: 'bench' });
  const { default: createCore } = await import('../dist/wasm/semcache_core.mjs');
  const m = await createCore({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
  const now = Date.now();
  for (let i = 0; i < N; i += 5000) {
    const rows = [];
    for (let id = i + 1; id <= Math.min(N, i + 5000); id++) {
      const prompt = `stored prompt ${id}`;
      rows.push({ id, scope: '{}', prompt, promptHash: m.CacheCore.hashPrompt(prompt), answer: answer(id), answerBytes: answer(id).length, vector: vectorOf(id), created: now, lastAccess: now, expiresAt: 0, hits: 0 });
    }
    await store.apply({ put: rows });
  }
  await store.close();
}

async function timedOpen(file) {
  const t0 = performance.now();
  const cache = await SemanticCache.open({ embedder, storage: 'file', path: file, index, maxEntries: 0 });
  const ms = performance.now() - t0;
  const entries = (await cache.stats()).entries;
  const probe = await cache.get('stored prompt 777');
  if (entries !== N || !probe.hit) throw new Error(`bench: reopened ${entries} entries, probe hit ${probe.hit}`);
  return { ms, cache };
}

function withoutWal(from, to) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  fs.copyFileSync(from, to);
  const db = new Database(to);
  db.pragma('journal_mode = DELETE');
  db.close();
}

log(`node: ${puts} durable puts, ${lanes} concurrent callers, ${dim}-d…`);
const node = { durable_puts_per_s: Math.round(await nodeDurablePuts()) };
const big = path.join(work, 'big.sqlite3');
log(`node: writing ${N} rows…`);
await buildRows(big);
log('node: open from rows (index rebuilt)…');
{
  const { ms, cache } = await timedOpen(big);
  node.open_rows_100k_ms = r1(ms);
  await cache.close();  // writes the snapshot
}
log('node: open from the snapshot…');
{
  const { ms, cache } = await timedOpen(big);
  node.open_snapshot_100k_ms = r1(ms);
  await cache.close();
}
withoutWal(big, path.join(work, 'snapshot.sqlite3'));
node.bytes_per_entry = Math.round(fs.statSync(path.join(work, 'snapshot.sqlite3')).size / N);
{
  // The rows-only copy: the same database without its snapshot.
  const Database = createRequire(import.meta.url)('better-sqlite3');
  withoutWal(big, path.join(work, 'rows.sqlite3'));
  const db = new Database(path.join(work, 'rows.sqlite3'));
  db.exec("DELETE FROM snapshot_chunks; DELETE FROM meta WHERE key IN ('snapshot_seq', 'snapshot_bytes'); VACUUM;");
  db.close();
}
log(`node: ${JSON.stringify(node)}`);

// ---- Chromium ----
let chromium = null;
if (chromiumToo) {
  const { chromium: pw } = await import('playwright-core');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-bench-'));
  const ctx = await pw.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => log(`page error: ${e}`));
    await page.goto(`${url}/bench/persist-page.html`);
    await page.waitForFunction(() => window.ready === true);
    log(`chromium: ${Math.min(puts, 10000)} durable puts…`);
    const c = { durable_puts_per_s: Math.round(await page.evaluate(([n, lanes, dim]) => window.durablePuts(n, lanes, dim), [Math.min(puts, 10000), lanes, dim])) };
    for (const [key, file] of [['open_snapshot_100k_ms', 'snapshot'], ['open_rows_100k_ms', 'rows']]) {
      log(`chromium: import ${file}.sqlite3 into OPFS, open…`);
      const r = await page.evaluate(([file, dim, n]) => window.openImported(file, dim, n), [file, dim, N]);
      if (r.entries !== N || !r.probe) throw new Error(`bench: chromium reopened ${r.entries} entries from ${file}`);
      c[key] = r1(r.ms);
      if (file === 'snapshot') c.bytes_per_entry = Math.round(r.bytes / N);
    }
    chromium = { durable_puts_per_s: c.durable_puts_per_s, open_snapshot_100k_ms: c.open_snapshot_100k_ms, open_rows_100k_ms: c.open_rows_100k_ms, bytes_per_entry: c.bytes_per_entry };
  } finally {
    await ctx.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
log(`config: ${N} entries, ${dim}-d f32, HNSW ${JSON.stringify(index)}, answers ${answer(0).length} B, ${lanes} concurrent putters`);
console.log(JSON.stringify({ node, chromium }));
