// The 'learned' evaluator's model: fetched (or given as bytes), loaded into a cache's core, checked
// against the embedder it will judge, and switched on.
import type { Embedder } from './embedder.js';
import { SemcacheError, core } from './errors.js';
import { fetchBytes } from './net.js';
import type { CacheCore, EvaluatorModel, SemcacheCoreModule } from './wasm/semcache_core.mjs';

/** Loads the model into `c` and makes 'learned' its evaluator. Resolves with the model's bytes
 * (for another core that must decide the same way). */
export async function useLearnedEvaluator(m: SemcacheCoreModule, c: CacheCore, source: string | URL | Uint8Array | undefined, embedder: Embedder): Promise<Uint8Array> {
  const bytes = source instanceof Uint8Array ? source : await fetchBytes(source ?? defaultEvaluatorModel(), { cache: false });
  const ptr = m._malloc(bytes.length);
  try {
    m.HEAPU8.set(bytes, ptr);
    core(() => c.loadEvaluatorModel(ptr, bytes.length));
    checkModelEmbedder(core(() => new m.EvaluatorModel(ptr, bytes.length)), embedder);
  } finally {
    m._free(ptr);
  }
  core(() => c.configure({ evaluator: 'learned' }));
  return bytes;
}

// Resolved on use: workerd leaves import.meta.url undefined, and a module-level `new URL` would
// stop the whole worker from loading (edge workers pass `evaluatorModel` bytes instead).
function defaultEvaluatorModel(): URL {
  if (!import.meta.url) throw new SemcacheError('INVALID_ARGUMENT', "evaluator 'learned' needs `evaluatorModel` (its bytes or URL) here");
  return new URL('./models/evaluator/model.bin', import.meta.url);
}

/** A model with a projection was fitted to one encoder's vector space: cos(P u, P v) over any other
 * encoder's vectors of the same size would be a meaningless feature, so such a pair is refused. */
function checkModelEmbedder(model: EvaluatorModel, embedder: Embedder): void {
  try {
    if (model.projRows() === 0) return;
    let family: unknown;
    try {
      family = JSON.parse(model.info() || '{}').embedderFamily;
    } catch {
      return;  // a hand-made model's free-form info
    }
    const id = embedder.id ?? '';
    // ids are NAME@sha or NAME-q8@sha: 'use-lite' must not pass for 'use-lite-cache'
    const sameModel = (f: string) => id === f || id.startsWith(`${f}@`) || id.startsWith(`${f}-q8@`);
    if (typeof family === 'string' && family && !sameModel(family)) {
      throw new SemcacheError(
        'INVALID_ARGUMENT',
        `the evaluator model was trained on '${family}' embeddings (its projection is fitted to them), this cache embeds with '${id || 'an unnamed embedder'}': use the '${family}' embedder or a model trained for yours (tools/train-evaluator.mjs)`,
      );
    }
  } finally {
    model.delete();
  }
}
