// Embedding-shaped vectors for the `scale` bench: real embeddings of QQP questions by the default
// encoder (through the embed cache), whose mean and covariance bench/scale_data.cpp draws from.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedEmbedder } from './embed-cache.mjs';
import { loadEmbedder } from './embedders.mjs';
import { groupKey, qqpPairs } from './quality-data.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `count` distinct normalized QQP questions (in file order) embedded by the default encoder,
 * as a count x dim f32 file in `dir`; made once per encoder. Returns {file, id}. */
export async function realEmbeddings(dir, { count = 20_000, log = () => {} } = {}) {
  const embedder = cachedEmbedder(await loadEmbedder('use'));
  const file = path.join(dir, `real-${String(embedder.id).replace(/[^\w.@-]/g, '_')}-${count}x${embedder.dimensions}.f32`);
  if (fs.existsSync(file) && fs.statSync(file).size === count * embedder.dimensions * 4) return { file, id: embedder.id };
  const texts = [...new Set(qqpPairs().flatMap((p) => [groupKey(p.a), groupKey(p.b)]).filter(Boolean))].slice(0, count);
  if (texts.length < count) throw new Error(`only ${texts.length} distinct QQP questions, asked for ${count}`);
  log(`embedding ${count} QQP questions with ${embedder.id} (cached in build/embed-cache)…`);
  const out = Buffer.alloc(count * embedder.dimensions * 4);
  for (let i = 0; i < count; i += 512) {
    const vecs = await embedder.embed(texts.slice(i, i + 512));
    vecs.forEach((v, j) => Buffer.from(Float32Array.from(v).buffer).copy(out, (i + j) * embedder.dimensions * 4));
  }
  fs.writeFileSync(`${file}.tmp`, out);
  fs.renameSync(`${file}.tmp`, file);
  return { file, id: embedder.id };
}

/** Vectors from..from+count-1 of the embedding-shaped stream `seed` into `out` (bench/scale_data.cpp). */
export function drawEmbeddingShaped(real, dim, seed, from, count, out, log = () => {}) {
  const r = spawnSync(path.join(root, 'build/native/scale_data'), [real, String(dim), String(seed), String(from), String(count), `${out}.tmp`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scale_data failed: ${r.stderr || r.error}`);
  log(r.stderr.trim());
  fs.renameSync(`${out}.tmp`, out);
}

/** `v` (a unit vector, changed in place) moved to cosine `cos` from where it was, along `d`
 * made orthogonal to it: |v + s d| with d orthogonal gives cosine 1 / sqrt(1 + s^2). */
export function moveTo(v, d, cos) {
  const dim = v.length;
  let along = 0, nd = 0, nv = 0;
  for (let j = 0; j < dim; j++) along += d[j] * v[j];
  for (let j = 0; j < dim; j++) nd += (d[j] - along * v[j]) ** 2;
  const step = Math.sqrt(1 / (cos * cos) - 1) / Math.sqrt(nd);
  for (let j = 0; j < dim; j++) v[j] += step * (d[j] - along * v[j]);
  for (let j = 0; j < dim; j++) nv += v[j] * v[j];
  for (let j = 0; j < dim; j++) v[j] /= Math.sqrt(nv);
  return v;
}
