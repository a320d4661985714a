// OpfsCacheOptions.workerEmbedder's type, apart from js/api.ts (types only).
import type { OnnxEmbedderOptions } from './embedders/onnx.js';

/** OnnxEmbedder.load's options as they cross to the cache's worker: data only (relative URLs
 * are this page's), plus what only a worker needs. */
export type WorkerEmbedderOptions = Pick<
  OnnxEmbedderOptions,
  'dtype' | 'pooling' | 'normalize' | 'maxLength' | 'batchSize' | 'threshold' | 'cache' | 'wasmPaths' | 'onProgress'
> & {
  /** A bundled model's name ('use-lite-cache', the default; 'use-lite'), a URL or the bytes. */
  model?: string | URL | Uint8Array;
  /** For BERT-style models: tokenizer.json's URL (default: beside the model). */
  tokenizer?: string | URL;
  /** The URL of onnxruntime-web's ES module for a worker without a bundler, e.g.
   * '/ort/ort.wasm.bundle.min.mjs'. Default: `import('onnxruntime-web/wasm')` (bundlers). */
  ort?: string | URL;
  /** Throwaway embeddings right after loading, so the first questions do not run the model
   * while V8 is still tiering its wasm up. Default 0. */
  warmup?: number;
};
