#!/usr/bin/env node
// Checks workers/edge/wrangler.toml with a real `wrangler dev` (wrangler is not a dependency:
// pass its binary in WRANGLER): starts the fake LLM and embeddings API, sends a question and a
// paraphrase, expects miss then hit with one upstream call. Run `npm run build` first.
// --onnx checks wrangler.onnx.toml instead: the worker that embeds with the bundled USE lite
// (the staged dist/edge-onnx), with no embeddings API at all.
//   WRANGLER=/path/to/wrangler node tools/edge-wrangler-check.mjs [--onnx]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startFakeEmbeddings, startFakeUpstream } from '../tests/js/fake-servers.mjs';

const wrangler = process.env.WRANGLER;
if (!wrangler) {
  console.error('set WRANGLER to a wrangler binary (e.g. node_modules/.bin/wrangler of wrangler@3.114.17 or 4.86.0, which run on Node 20)');
  process.exit(2);
}
const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-wrangler-'));
const up = await startFakeUpstream(), emb = await startFakeEmbeddings({ dim: 64 });
const onnx = process.argv.includes('--onnx');
// pass-through mode (the fake LLM takes any key): entries are kept per client key, hashed with this
const credential = ['--var', 'CREDENTIAL_HASH_KEY:wrangler-check'];
const vars = onnx
  ? ['-c', 'wrangler.onnx.toml', '--var', `UPSTREAM_BASE_URL:${up.url}`, ...credential]
  : [...credential, '--var', `UPSTREAM_BASE_URL:${up.url}`, '--var', `EMBEDDINGS_URL:${emb.url}`, '--var', 'EMBEDDINGS_DIMENSIONS:64', '--var', 'EMBEDDINGS_SEND_DIMENSIONS:false', '--var', 'SIMILARITY_THRESHOLD:0.8'];
const questions = onnx
  ? ['How do I learn Python quickly?', 'What is the fastest way to learn Python?']
  : ['What is the capital city of France?', 'so what is the capital city of france'];
const child = spawn(wrangler, ['dev', '--port', '8799', '--ip', '127.0.0.1', '--persist-to', persist, ...vars],
  { cwd: 'workers/edge', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
let ok = false;
child.stdout.on('data', (d) => (log += d));
child.stderr.on('data', (d) => (log += d));
try {
  for (let i = 0; i < 60 && !/Ready on/.test(log); i++) await new Promise((r) => setTimeout(r, 500));
  const chat = (c) => fetch('http://127.0.0.1:8799/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: c }] }) });
  const seen = [];
  for (const q of questions) {
    const r = await chat(q);
    seen.push(`${r.status} ${r.headers.get('x-semcache')}`);
    console.log(r.status, r.headers.get('x-semcache'), r.headers.get('x-semcache-similarity'), await r.text());
  }
  ok = seen.join(',') === '200 miss,200 hit' && up.calls.length === 1 && (!onnx || emb.calls.length === 0);
  console.log(`upstream calls: ${up.calls.length}, embeddings API calls: ${emb.calls.length}`);
} catch (e) {
  console.log('error', e);
} finally {
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 1000));
  if (child.exitCode === null) child.kill('SIGKILL');
  console.log(log.split('\n').filter((l) => !/^\s*$/.test(l)).slice(-12).join('\n'));
  await up.close();
  await emb.close();
  fs.rmSync(persist, { recursive: true, force: true });
}
console.log(ok ? 'wrangler dev: ok' : 'wrangler dev: FAILED');
process.exit(ok ? 0 : 1);
