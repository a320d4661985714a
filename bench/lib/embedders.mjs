// Embedders the benchmarks run with, by name, behind a memo: `prepare(texts)` embeds in batches
// up front (far faster than one text per call) and keeps vectors on disk under build/, keyed
// by the embedder's id, so reruns of a benchmark skip the model.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toyVector } from '../../tests/js/toy-vector.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function loadEmbedder(name) {
  if (name === 'toy') return { id: 'toy-256', dimensions: 256, embed: async (texts) => texts.map((t) => toyVector(t, 256)) };
  if (name === 'use') {
    const { OnnxEmbedder } = await import('semcache');
    return memo(await OnnxEmbedder.load());
  }
  throw new Error(`unknown embedder '${name}' (use 'use' or 'toy')`);
}

function memo(inner) {
  const file = path.join(root, 'build/embeddings', `${inner.id.replace(/[^\w.@-]/g, '_')}.jsonl`);
  const known = new Map();
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const [text, b64] = JSON.parse(line);
      known.set(text, new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer));
    }
  }
  const save = (texts, vectors) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lines = texts.map((t, i) => JSON.stringify([t, Buffer.from(vectors[i].buffer, vectors[i].byteOffset, vectors[i].byteLength).toString('base64')]));
    fs.appendFileSync(file, lines.join('\n') + '\n');
  };
  return {
    id: inner.id,
    dimensions: inner.dimensions,
    defaultThreshold: inner.defaultThreshold,
    async prepare(texts) {
      const todo = [...new Set(texts)].filter((t) => !known.has(t));
      for (let i = 0; i < todo.length; i += 256) {
        const batch = todo.slice(i, i + 256);
        const vectors = await inner.embed(batch);
        batch.forEach((t, j) => known.set(t, vectors[j]));
        save(batch, vectors);
      }
    },
    async embed(texts) {
      const missing = texts.filter((t) => !known.has(t));
      if (missing.length) await this.prepare(missing);
      return texts.map((t) => known.get(t));
    },
    dispose: () => inner.dispose?.(),
  };
}
