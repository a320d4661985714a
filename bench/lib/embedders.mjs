// Embedders the benchmarks can run with, by name.
import { toyVector } from '../../tests/js/toy-vector.mjs';

export async function loadEmbedder(name) {
  if (name === 'toy') return { id: 'toy-256', dimensions: 256, embed: async (texts) => texts.map((t) => toyVector(t, 256)) };
  if (name === 'use') {
    const { OnnxEmbedder } = await import('semcache');
    if (!OnnxEmbedder) throw new Error('this build has no OnnxEmbedder');
    return OnnxEmbedder.load();
  }
  throw new Error(`unknown embedder '${name}' (use 'use' or 'toy')`);
}
