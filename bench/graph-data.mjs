#!/usr/bin/env node
// Which synthetic data is as hard for the index as real embeddings? A million real questions are
// not at hand, so the `scale` bench draws synthetic vectors; this checks them against real data
// at the size real data exists: 19,000 entries of each kind (`--total`: up to all 73,178
// distinct QQP questions, 1,000 of them held out as queries), the cache's index (int8, HNSW,
// M 16 (--m), the index's default efConstruction unless --efc; bench/ann_grid.cpp, native),
// recall@1 against exact f32 at several efSearch, for three query sets per kind:
//  - fresh: 200 held-out vectors of the same kind (for real data, QQP questions not stored;
//    QQP holds paraphrase pairs, so some have a duplicate stored, as in a cache);
//  - near / related: 200 stored vectors moved to cosine 0.95 / 0.85 from where they were, along
//    the difference of two held-out vectors of the kind (bench/lib/embedding-shaped.mjs moveTo);
// for four kinds: real (20,000 distinct QQP questions embedded by the default encoder),
// embedding (Gaussian with their mean and covariance: `scale --data embedding`), clustered
// (`scale --data clustered`) and text (real English sentences, QQP's among them, by the same
// encoder: the first `--total` of the 1.05M that `scale --data text` uses, bench/lib/
// text-corpus.mjs; up to 1,001,000, so that it also checks the index at 1M natively). The real
// vectors are the ones the Gaussian is fitted to.
//   node bench/graph-data.mjs [--m 16] [--efc N] [--ef 16,40,64,100,200] [--total 20000] [--kinds real,embedding,clustered,text]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusteredVectors } from './lib/clustered.mjs';
import { drawEmbeddingShaped, moveTo, realEmbeddings } from './lib/embedding-shaped.mjs';
import { textEmbeddings } from './lib/text-corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const M = Number(arg('--m', '16')), EFC = arg('--efc'), EFS = arg('--ef', '16,40,64,100,200');
const DIM = 512, Q = 200, TOTAL = Number(arg('--total', '20000')), BASE = TOTAL - 1_000;
const KINDS = arg('--kinds', 'real,embedding,clustered').split(',');
if (!(TOTAL >= 2_000)) throw new Error(`--total must be at least 2000, got ${arg('--total')}`);
const log = (s) => process.stderr.write(`graph-data: ${s}\n`);
const work = path.join(root, 'build/bench-graph');
fs.mkdirSync(work, { recursive: true });

const readF32 = (file) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
// only what the kinds need: there are 73,178 QQP questions (the text file takes ~40 min to make)
const real = KINDS.some((k) => k === 'real' || k === 'embedding') ? await realEmbeddings(work, { count: TOTAL, log }) : undefined;
const kinds = {
  real: () => readF32(real.file),
  embedding: () => {
    // fitted to the real vectors of this encoder and size
    const f = path.join(work, `embedding-of-${path.basename(real.file)}`);
    if (!fs.existsSync(f)) drawEmbeddingShaped(real.file, DIM, 7, 0, TOTAL, f, log);
    return readF32(f);
  },
  clustered: () => {
    const gen = clusteredVectors({ dim: DIM, centres: 1000, seed: 42 }), out = new Float32Array(TOTAL * DIM);
    for (let i = 0; i < TOTAL; i++) gen.vector(i, out.subarray(i * DIM, (i + 1) * DIM));
    return out;
  },
  text: async () => {
    const { file, count } = await textEmbeddings({ log });
    if (TOTAL > count) throw new Error(`--total ${TOTAL}: the text file holds ${count} sentences`);
    const out = new Float32Array(TOTAL * DIM), fd = fs.openSync(file, 'r');
    fs.readSync(fd, new Uint8Array(out.buffer), 0, out.byteLength, 0);
    fs.closeSync(fd);
    return out;
  },
};

const out = { n: BASE, M, efConstruction: EFC === undefined ? 'default' : Number(EFC), queries: Q };
for (const kind of KINDS) {
  const load = kinds[kind];
  if (!load) throw new Error(`--kinds: unknown kind '${kind}' (real, embedding, clustered, text)`);
  const all = await load();
  const at = (i) => all.slice(i * DIM, (i + 1) * DIM);
  const file = (name) => path.join(work, `${kind}-${name}.f32`);
  fs.writeFileSync(file('base'), all.subarray(0, BASE * DIM));
  fs.writeFileSync(file('fresh'), all.subarray(BASE * DIM, (BASE + Q) * DIM));
  for (const [name, cos, first] of [['near', 0.95, 0], ['related', 0.85, 1]]) {
    const qs = new Float32Array(Q * DIM);
    for (let k = 0; k < Q; k++) {
      const m = BASE + Q + 2 * ((first * Q + k) % 400);  // 800 held-out vectors: 400 differences
      const d = at(m).map((x, j) => x - all[(m + 1) * DIM + j]);
      qs.set(moveTo(at((k * 7919 + first) % BASE), d, cos), k * DIM);
    }
    fs.writeFileSync(file(name), qs);
  }
  log(`${kind}: index of ${BASE} (M ${M}, efConstruction ${EFC ?? 'default'}), recall@1 at ef ${EFS}…`);
  const r = spawnSync(path.join(root, 'build/native/ann_grid'), [file('base'), String(BASE), EFC === undefined ? String(M) : `${M}/${EFC}`, EFS, file('fresh'), file('near'), file('related')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ann_grid failed: ${r.stderr || r.error}`);
  out[kind] = {};
  for (const line of r.stdout.trim().split('\n')) {
    const row = JSON.parse(line);
    const set = path.basename(row.queries, '.f32').slice(kind.length + 1);
    out[kind][set] = { top1_cos_p50: row.top1_cos_p50, recall_at_1: row.recall_at_1, search_us: row.search_us };
    log(`  ${set}: best match at cosine ${row.top1_cos_p50} (p50); recall@1 ${JSON.stringify(row.recall_at_1)}`);
  }
}
console.log(JSON.stringify(out));
