// Embedders the benchmarks run with, by name (bench/lib/embed-cache.mjs adds a disk cache).
import { toyVector } from '../../tests/js/toy-vector.mjs';

export async function loadEmbedder(name) {
  if (name === 'toy') return { id: 'toy-256', dimensions: 256, embed: async (texts) => texts.map((t) => toyVector(t, 256)) };
  if (name === 'use') {
    const { OnnxEmbedder } = await import('semcache');
    return OnnxEmbedder.load();
  }
  throw new Error(`unknown embedder '${name}' (use 'use' or 'toy')`);
}
