#!/usr/bin/env node
// ANN search: the same C++ benchmark (bench_ann.cpp) built to wasm (run in Node) and natively
// (-O3 -march=native, hnswlib's AVX kernels), on 100k x 512-d unit vectors around 1,000 seeded
// centres; a brute-force scan in wasm is the baseline. Search latency comes labelled: *_warm_*
// searches back to back (the graph's hot parts in the CPU caches), *_cold_* each search right
// after a brute-force scan of all n vectors has evicted the graph (see bench_ann.cpp). Ratios:
// wasm_over_native_warm / _cold (p50 over p50), speedup_vs_brute (brute p50 / warm search p50,
// both back to back). Prints one JSON line last: {"results": [one object per space], load_avg_1m}.
//   node bench/ann.mjs [--n 100000] [--dim 512] [--queries 1000] [--ef 40 (the default)] [--efc 100]
//                      [--M 16] [--snapshot-dir build/ann-snap (reuse built graphs: search-only runs)]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const defaults = { '--n': '100000', '--dim': '512', '--centres': '1000', '--queries': '1000', '--brute-queries': '100' };
const argv = process.argv.slice(2);
for (const [k, v] of Object.entries(defaults)) if (!argv.includes(k)) argv.push(k, v);

function run(label, cmd, args) {
  process.stderr.write(`ann: running ${label}…\n`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`${label} benchmark failed (${r.status ?? r.signal})`);
  }
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const row of rows) process.stderr.write(`  ${label} ${JSON.stringify(row)}\n`);
  return Object.fromEntries(rows.map((x) => [x.space, x]));
}

const wasm = run('wasm', process.execPath, [path.join(root, 'build/wasm/bench_ann.cjs'), ...argv]);
const native = run('native', path.join(root, 'build/native/bench_ann'), argv);
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const results = Object.keys(wasm).map((space) => {
  const w = wasm[space], n = native[space];
  return {
    space,
    n: w.n,
    dim: w.dim,
    M: w.M,
    ef_construction: w.ef_construction,
    ef_search: w.ef_search,
    recall_at_1: w.recall_at_1,
    recall_at_10: w.recall_at_10,
    recall_at_1_vs_f32: w.recall_at_1_vs_f32,
    recall_at_10_vs_f32: w.recall_at_10_vs_f32,
    wasm_build_s: w.build_s,
    native_build_s: n.build_s,
    wasm_search_warm_p50_us: w.search_warm_p50_us,
    wasm_search_warm_p99_us: w.search_warm_p99_us,
    native_search_warm_p50_us: n.search_warm_p50_us,
    native_search_warm_p99_us: n.search_warm_p99_us,
    wasm_over_native_warm: round(w.search_warm_p50_us / n.search_warm_p50_us),
    wasm_search_cold_p50_us: w.search_cold_p50_us,
    wasm_search_cold_p99_us: w.search_cold_p99_us,
    native_search_cold_p50_us: n.search_cold_p50_us,
    native_search_cold_p99_us: n.search_cold_p99_us,
    wasm_over_native_cold: round(w.search_cold_p50_us / n.search_cold_p50_us),
    wasm_brute_p50_us: w.brute_p50_us,
    speedup_vs_brute: round(w.brute_p50_us / w.search_warm_p50_us, 1),
  };
});
console.log(JSON.stringify({ results, load_avg_1m: round(os.loadavg()[0]) }));
