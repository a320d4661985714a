#!/usr/bin/env node
// The edge worker (workers/edge/worker.mjs) in workerd (Miniflare), over HTTP on loopback, in
// front of the fake LLM and the fake embeddings API (tests/js/fake-servers.mjs, both instant,
// so "miss" is the worker's own overhead: lookup + forward + store). 500 distinct questions
// (misses), then 500 paraphrases of them (hits), one request at a time.
//   node bench/edge.mjs [--n 500] [--dim 256]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { edgeMiniflare, workerdRssMB } from '../tests/js/miniflare.mjs';
import { startFakeEmbeddings, startFakeUpstream } from '../tests/js/fake-servers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const n = arg('--n', 500), dim = arg('--dim', 256);

// Questions of 6 words from a vocabulary of made-up words; a paraphrase drops one word and
// shuffles the rest (bag-of-words cosine ~ 5/sqrt(30) = 0.91 against a threshold of 0.8).
let seed = 7;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ze', 'pa', 'qu', 'do'];
const vocab = Array.from({ length: 4000 }, (_, i) => syllables[i % 12] + syllables[Math.floor(i / 12) % 12] + syllables[Math.floor(i / 144) % 12] + (i >= 1728 ? 'x' : ''));
const questions = Array.from({ length: n }, () => Array.from({ length: 6 }, () => vocab[Math.floor(rand() * vocab.length)]));
const paraphrases = questions.map((words) => {
  const w = words.slice(0, 5);
  for (let i = w.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [w[i], w[j]] = [w[j], w[i]];
  }
  return w.join(' ');
});

const upstream = await startFakeUpstream();
const embeddings = await startFakeEmbeddings({ dim });
const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-bench-edge-'));
const mf = edgeMiniflare({ persist, upstreamUrl: upstream.url, embeddingsUrl: embeddings.url, vars: { EMBEDDINGS_DIMENSIONS: String(dim) } });
const base = (await mf.ready).toString().replace(/\/$/, '');

async function ask(content) {
  const t = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-semcache-tenant': 'bench' },
    body: JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }] }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} for ${content}`);
  return { ms: performance.now() - t, cache: res.headers.get('x-semcache') };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const r3 = (x) => Math.round(x * 1000) / 1000;

try {
  for (let i = 0; i < 20; i++) await ask(`warm up request number ${i} zzq${i}`);  // isolate, DO, wasm, JIT
  const missMs = [], hitMs = [];
  let misses = 0, hits = 0;
  for (const q of questions) {
    const r = await ask(q.join(' '));
    missMs.push(r.ms);
    if (r.cache === 'miss') misses++;
  }
  const callsBefore = upstream.calls.length;
  for (const p of paraphrases) {
    const r = await ask(p);
    if (r.cache === 'hit') {
      hits++;
      hitMs.push(r.ms);
    } else {
      missMs.push(r.ms);
    }
  }
  const saved = paraphrases.length - (upstream.calls.length - callsBefore);
  console.log(
    `edge: ${n} questions then ${n} paraphrases through workerd on loopback; ${hits} hits, ${misses + n - hits} misses, ` +
      `${upstream.calls.length} upstream calls, ${embeddings.calls.length} embeddings calls (${dim}-d), workerd RSS ${Math.round(workerdRssMB())} MB`,
  );
  console.log(
    JSON.stringify({
      hit_p50_ms: r3(pct(hitMs, 0.5)),
      hit_p99_ms: r3(pct(hitMs, 0.99)),
      miss_p50_ms: r3(pct(missMs, 0.5)),
      miss_p99_ms: r3(pct(missMs, 0.99)),
      upstream_calls_saved: saved,
    }),
  );
} finally {
  await mf.dispose();
  await upstream.close();
  await embeddings.close();
  fs.rmSync(persist, { recursive: true, force: true });
}
