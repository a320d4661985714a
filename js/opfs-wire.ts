// What the OPFS proxy (js/opfs.ts) sends its worker when it opens the cache: the options as
// data (functions stay on the page) and the worker's embedder with its URLs made absolute; and
// the checks of the options only an OPFS cache has.
import type { WorkerEmbedderOptions } from './api.js';
import type { OpfsCacheOptions } from './api-opfs.js';
import { BUNDLED_MODELS } from './embedders/use-lite.js';
import { SemcacheError } from './errors.js';
import { checkVerifier } from './verifier.js';
import type { WireEmbedderOptions, WorkerCacheOptions } from './workers/opfs-protocol.js';

/** OpfsCacheOptions.storageShare's default: half the origin's quota. */
export const DEFAULT_STORAGE_SHARE = 0.5;

/** The name, the page's means (locks, channels, workers), the verifier and storageShare. */
export function checkOpfsOptions(o: OpfsCacheOptions): void {
  if (typeof o.name !== 'string' || !o.name) throw new SemcacheError('INVALID_ARGUMENT', "storage: 'opfs' needs a name");
  if (typeof navigator === 'undefined' || !navigator.locks || typeof BroadcastChannel === 'undefined' || typeof Worker === 'undefined') {
    throw new SemcacheError('INVALID_ARGUMENT', "storage: 'opfs' needs a browser page with Web Locks, BroadcastChannel and workers");
  }
  checkVerifier(o.verifier);
  const share = o.storageShare ?? DEFAULT_STORAGE_SHARE;
  if (!(typeof share === 'number' && share > 0 && share <= 1)) throw new SemcacheError('INVALID_ARGUMENT', `storageShare must be a number in (0, 1], got ${String(share)}`);
}

/** The options the worker's cache opens with: data only (the embedder and verifier stay here). */
export function workerOptions(o: OpfsCacheOptions): WorkerCacheOptions {
  const { embedder: _e, workerEmbedder: _we, storage: _s, name: _n, workerUrl: _w, sqliteUrl: _q, onCorrupt: _c, verifier: _v, dimensions: _d, next: _x, share: _h, storageShare: _b, persist: _p, exactOnPage: _m, semanticOnPage: _o, evaluatorModel, ...data } = o;
  if (evaluatorModel === undefined || evaluatorModel instanceof Uint8Array) return { ...data, evaluatorModel };
  // A relative URL means this page's, not the worker script's.
  return { ...data, evaluatorModel: new URL(evaluatorModel, globalThis.location?.href).href };
}

/** workerEmbedder as data for the worker: URLs made absolute against this page (the worker's
 * own base is its script's), the progress callback kept here. */
export function wireEmbedder(w: WorkerEmbedderOptions): WireEmbedderOptions {
  const { onProgress: _p, model, tokenizer, wasmPaths, ort, ...data } = w;
  const abs = (u: string | URL) => new URL(String(u), globalThis.location?.href).href;
  const bundled = typeof model === 'string' && (BUNDLED_MODELS as readonly string[]).includes(model);
  return {
    ...data,
    model: model === undefined || bundled || model instanceof Uint8Array ? (model as string | Uint8Array | undefined) : abs(model),
    tokenizer: tokenizer === undefined ? undefined : abs(tokenizer),
    ort: ort === undefined ? undefined : abs(ort),
    wasmPaths:
      wasmPaths === undefined
        ? undefined
        : typeof wasmPaths === 'string' || wasmPaths instanceof URL
          ? abs(wasmPaths)
          : { mjs: wasmPaths.mjs === undefined ? undefined : abs(wasmPaths.mjs), wasm: wasmPaths.wasm === undefined ? undefined : abs(wasmPaths.wasm) },
  };
}
