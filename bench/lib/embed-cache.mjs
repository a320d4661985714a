// A disk cache of embeddings keyed by text hash, so the evaluator trainer and the quality bench
// embed each QQP/mock_data sentence once per model (USE lite: ~5-15 ms a sentence here).
// File: build/embed-cache/<embedder id>.bin, records of [20-byte SHA-1 of the text][dim f32],
// appended as new texts are embedded; a torn last record (killed run) is ignored. Parallel
// warm-ups (bench/lib/embed-warm.mjs) write shard files beside it, merged on the next open.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const key = (t) => crypto.createHash('sha1').update(t).digest();

/** Wraps an embedder: same id and dimensions, embed() served from the cache when it can.
 * shard: write new embeddings to a shard file of that name instead (a parallel warm-up). */
export function cachedEmbedder(embedder, { dir = path.join(root, 'build/embed-cache'), batch = 32, onProgress, shard } = {}) {
  const dim = embedder.dimensions;
  const main = path.join(dir, `${String(embedder.id).replace(/[^\w.@-]/g, '_')}-${dim}.bin`);
  const rec = 20 + dim * 4;
  const map = new Map();
  fs.mkdirSync(dir, { recursive: true });
  const whole = (buf) => buf.subarray(0, Math.floor(buf.length / rec) * rec);
  if (shard === undefined) {
    if (fs.existsSync(main)) fs.truncateSync(main, whole(fs.readFileSync(main)).length);  // drop a torn record
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(`${path.basename(main)}.shard-`))) {
      fs.appendFileSync(main, whole(fs.readFileSync(path.join(dir, f))));
      fs.rmSync(path.join(dir, f));
    }
  }
  if (fs.existsSync(main)) {
    const buf = whole(fs.readFileSync(main));
    for (let o = 0; o < buf.length; o += rec) {
      map.set(buf.subarray(o, o + 20).toString('hex'), new Float32Array(buf.buffer.slice(buf.byteOffset + o + 20, buf.byteOffset + o + rec)));
    }
  }
  const file = shard === undefined ? main : `${main}.shard-${shard}`;
  let fd;
  async function embed(texts, opts) {
    const keys = texts.map((t) => key(t));
    const todo = [...new Set(texts.filter((t, i) => !map.has(keys[i].toString('hex'))))];
    for (let i = 0; i < todo.length; i += batch) {
      const chunk = todo.slice(i, i + batch);
      const vecs = await embedder.embed(chunk, opts);
      fd ??= fs.openSync(file, 'a');
      const out = Buffer.alloc(rec * chunk.length);
      chunk.forEach((t, j) => {
        const v = Float32Array.from(vecs[j]);
        const k = key(t);
        k.copy(out, j * rec);
        Buffer.from(v.buffer).copy(out, j * rec + 20);
        map.set(k.toString('hex'), v);
      });
      fs.writeSync(fd, out);
      onProgress?.(Math.min(i + batch, todo.length), todo.length);
    }
    return keys.map((k) => map.get(k.toString('hex')));
  }
  return { id: embedder.id, dimensions: dim, defaultThreshold: embedder.defaultThreshold, embed, size: () => map.size };
}
