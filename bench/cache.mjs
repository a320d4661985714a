#!/usr/bin/env node
// The SemanticCache API at 100k entries (in-memory store, embedding excluded: the embedder looks
// precomputed vectors up). Measures put and get throughput and latency (hits and misses): speed
// only. The queries are synthetic, built to hit (a cached vector plus noise, cosine ~0.99) or to
// miss (a random direction, cosine ~0) so that each timed path is the one named; that they do is
// checked (the bench fails otherwise), not reported as hit quality, which this data cannot
// measure (the index's recall on it is bench ann's). Hit quality on real questions:
// `npm run bench -- quality`.
//   node bench/cache.mjs [--n 100000] [--dim 512] [--gets 5000]
import os from 'node:os';
import { SemanticCache } from 'semcache';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const n = arg('--n', 100_000), dim = arg('--dim', 512), gets = arg('--gets', 5000);

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
const unit = (base, noise) => {
  const v = new Float32Array(dim);
  let s = 0;
  for (let i = 0; i < dim; i++) s += (v[i] = (base ? base[i] : 0) + noise * gauss()) ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < dim; i++) v[i] *= inv;
  return v;
};

const centres = Array.from({ length: 1000 }, () => unit(null, 1));
const vectors = new Map();
const prompts = [];
for (let i = 0; i < n; i++) {
  const p = `cached prompt number ${i}`;
  prompts.push(p);
  vectors.set(p, unit(centres[i % 1000], 0.03));
}
const answer = 'x'.repeat(500);
const embedder = { dimensions: dim, id: 'bench', embed: async (texts) => texts.map((t) => vectors.get(t)) };
const cache = await SemanticCache.open({ embedder, maxEntries: n, threshold: 0.95, snapshotEvery: 0 });

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const r3 = (x) => Math.round(x * 1000) / 1000;

process.stderr.write(`cache: putting ${n} entries…\n`);
const putLat = [];
const t0 = performance.now();
for (const p of prompts) {
  const t = performance.now();
  await cache.put(p, answer);
  putLat.push(performance.now() - t);
}
const putS = (performance.now() - t0) / 1000;

// Hits: a vector near a cached one; misses: vectors from unseen directions.
const hitQ = [], missQ = [];
for (let i = 0; i < gets; i++) {
  const src = prompts[(i * 7919) % n];
  const q = `paraphrase ${i}`;
  vectors.set(q, unit(vectors.get(src), 0.005));
  hitQ.push(q);
  const m = `unseen ${i}`;
  vectors.set(m, unit(null, 1));
  missQ.push(m);
}
async function timeGets(qs) {
  const lat = [];
  let hits = 0;
  const t = performance.now();
  for (const q of qs) {
    const s = performance.now();
    const r = await cache.get(q);
    lat.push(performance.now() - s);
    hits += r.hit ? 1 : 0;
  }
  return { lat, hits, s: (performance.now() - t) / 1000 };
}
await timeGets(hitQ.slice(0, 200));  // warm-up
const h = await timeGets(hitQ);
const m = await timeGets(missQ);
const exact = await timeGets(prompts.slice(0, gets));
const stats = await cache.stats();
await cache.close();
// The timed paths must be the ones named. HNSW may lose a few near neighbours (recall < 1, see
// bench ann), so up to 1% of the hit queries may miss; more would mean the workload is not
// what the figures say.
if (h.hits < 0.99 * gets || m.hits !== 0 || exact.hits !== gets)
  throw new Error(`bench cache: workload broken (hits ${h.hits}/${gets}, misses that hit ${m.hits}, exact hits ${exact.hits}/${gets})`);

console.log(
  JSON.stringify({
    n,
    dim,
    entries: stats.entries,
    put_per_s: Math.round(n / putS),
    put_p50_ms: r3(pct(putLat, 0.5)),
    put_p99_ms: r3(pct(putLat, 0.99)),
    get_hit_per_s: Math.round(gets / h.s),
    get_hit_p50_ms: r3(pct(h.lat, 0.5)),
    get_hit_p99_ms: r3(pct(h.lat, 0.99)),
    get_miss_per_s: Math.round(gets / m.s),
    get_miss_p50_ms: r3(pct(m.lat, 0.5)),
    get_miss_p99_ms: r3(pct(m.lat, 0.99)),
    get_exact_per_s: Math.round(gets / exact.s),
    get_exact_p50_ms: r3(pct(exact.lat, 0.5)),
    load_avg_1m: r3(os.loadavg()[0]),
  }),
);
