// The OPFS worker's own embedder (OpfsCacheOptions.workerEmbedder): an OnnxEmbedder loaded in
// the worker, so a lookup is one round trip from the page and an exact repeat embeds nothing.
// Imported on demand: a worker whose pages embed never loads ONNX Runtime.
import type { Embedder } from '../embedder.js';
import { SemcacheError } from '../errors.js';
import type { FetchProgress } from '../net.js';
import type { WireEmbedderOptions } from './opfs-protocol.js';

export async function loadWorkerEmbedder(w: WireEmbedderOptions, onProgress: (p: FetchProgress) => void): Promise<Embedder> {
  const { ort: ortUrl, warmup = 0, ...options } = w;
  if (!(Number.isInteger(warmup) && warmup >= 0 && warmup <= 1000)) {
    throw new SemcacheError('INVALID_ARGUMENT', `workerEmbedder.warmup must be an integer in 0..1000, got ${String(warmup)}`);
  }
  const [{ OnnxEmbedder }, ort] = await Promise.all([
    import('../embedders/onnx.js'),
    ortUrl === undefined ? undefined : import(/* @vite-ignore */ ortUrl),
  ]);
  const embedder = await OnnxEmbedder.load({ ...options, ort, onProgress });
  // V8 runs wasm first with its baseline compiler and optimizes hot functions as they run.
  for (let i = 0; i < warmup; i++) await embedder.embed(['What is the fastest way to warm up an encoder?']);
  return embedder;
}
