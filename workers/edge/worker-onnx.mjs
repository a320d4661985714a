// The semcache edge worker with its embedder inside: the bundled int8 Universal Sentence Encoder
// lite, fine-tuned for caching (the package's default model, with the learned evaluator it was
// calibrated with), runs in the isolate on ONNX Runtime Web (set EMBEDDER = "use-lite";
// wrangler.onnx.toml).
// No embeddings API, no key, no prompt leaves the worker except to the upstream LLM. Everything
// is imported as a module: workerd compiles no wasm from bytes and fetches no file.
import './ort-shim.mjs';
import { DurableObject } from 'cloudflare:workers';
import * as ort from '../../node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs';
import './ort-glue.mjs';
import createSemcacheCore from '../../dist/wasm/semcache_core.mjs';
import wasmModule from '../../dist/wasm/semcache_core.wasm';
import { createEdgeFetch, ShardState } from '../../dist/edge/index.js';
import { OnnxEmbedder } from '../../dist/embedders/onnx.js';
import manifest from '../../dist/models/use-lite-cache/manifest.json';
import model from '../../dist/models/use-lite-cache/model_q8.onnx';
import vocab from '../../dist/models/use-lite-cache/vocab.json';
import evaluator from '../../dist/models/evaluator/model.bin';

const wasm = { factory: createSemcacheCore, wasmModule };

// ORT imports its glue by this name, relative to its own module (import.meta.url is undefined
// here, so it cannot find it itself): the wrapper of ort-glue.mjs.
const ortGlue = '../../../workers/edge/ort-glue.mjs';
const useLite = (wasm) => OnnxEmbedder.load({ ort, wasm, wasmPaths: { mjs: ortGlue }, dtype: 'q8', files: { manifest, model, vocab, evaluator } });

export class SemcacheShard extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.shard = new ShardState(ctx, env, wasm, useLite);
  }

  /** The worker's only RPC: op is one of js/edge/shard.ts's ShardOp (get | put | clear | stats |
   * flush, the flight verbs of begin, the export/import verbs). */
  call(op, args) {
    return this.shard.call(op, args);
  }

  alarm() {
    return this.shard.alarm();
  }
}

export default { fetch: createEdgeFetch() };
