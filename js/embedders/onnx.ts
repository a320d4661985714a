// Sentence embeddings with ONNX Runtime Web, tokenized by the C++ core. With no model given,
// the bundled default: Universal Sentence Encoder lite fine-tuned for caching ('use-lite-cache',
// tools/finetune-encoder, converted at build time into dist/models/use-lite-cache); the original
// USE lite loads by name ('use-lite'); otherwise a BERT-style model (all-MiniLM-L6-v2,
// bge-small, e5-small…) from a URL or bytes with its tokenizer.json.
//
//   const embedder = await OnnxEmbedder.load();                       // bundled, tuned, 512-d
//   const original = await OnnxEmbedder.load({ model: 'use-lite' });  // USE lite as Google made it
//   const minilm = await OnnxEmbedder.load({
//     model: 'https://host/all-MiniLM-L6-v2/onnx/model.onnx',
//     tokenizer: 'https://host/all-MiniLM-L6-v2/tokenizer.json',     // default: beside the model
//     onProgress: (p) => console.log(p.url, p.loaded, p.total),
//   });
import type { SemcacheCoreModule } from '../wasm/semcache_core.mjs';
import type { SentencePieceTokenizer, WordPieceTokenizer } from '../wasm/text.js';
import type { DefaultEvaluator, Embedder } from '../embedder.js';
import { SemcacheError, throwIfAborted } from '../errors.js';
import { baseUrl, fetchBytes, fetchText, type FetchProgress } from '../net.js';
import { promptNormalizer } from '../prompt-form.js';
import { loadCore, type LoadCoreOptions } from '../wasm.js';
import { OnnxEmbeddingSession, type OrtModule, type WasmPaths } from './onnx-session.js';
import { BUNDLED_MODELS, DEFAULT_MODEL, USE_LITE_THRESHOLD, type BundledModel } from './use-lite.js';

export { BUNDLED_MODELS, DEFAULT_MODEL, USE_LITE_THRESHOLD, type BundledModel };

export interface OnnxEmbedderOptions {
  /** The model: a bundled one by name ('use-lite-cache', the default: USE lite fine-tuned for
   * caching; 'use-lite': the original), a URL (http(s), file: in Node, or relative to the page)
   * or its bytes. */
  model?: BundledModel | string | URL | Uint8Array | ArrayBuffer;
  /** For BERT-style models: tokenizer.json (URL, or its text as `{ json }`). Default: beside the
   * model URL (or one folder up when the model sits in `onnx/`, the Hugging Face layout). */
  tokenizer?: string | URL | { json: string; modelMaxLength?: number };
  /** A bundled model's weights: 'q8' (default: int8 weights, ~2x faster on one sentence in
   * wasm, 7 MB instead of 28 MB, embeddings within cosine 0.998 of float32) or 'fp32' (the exact
   * conversion; built in the repository, not shipped in the npm package). Models given by URL
   * or bytes run as they are. */
  dtype?: 'q8' | 'fp32';
  /** BERT-style models: 'mean' (default) or 'cls'. */
  pooling?: 'mean' | 'cls';
  /** BERT-style models: L2-normalize (default true). */
  normalize?: boolean;
  /** Tokens per text at most (longer texts are cut). Default: the model's (USE lite 128, BERT 256). */
  maxLength?: number;
  /** Texts per ONNX run. Default 32; always 1 for dtype 'q8', whose activation scales are per
   * tensor: in a batch a text's vector would depend on its batch-mates. */
  batchSize?: number;
  /** The cosine threshold a cache should use with this model (SemanticCache picks it up). */
  threshold?: number;
  /** Download progress for each file. */
  onProgress?: (p: FetchProgress) => void;
  /** Keep downloaded files (a directory in Node, the Cache API in browsers). Default true. */
  cache?: boolean;
  /** URL of onnxruntime-web's dist/ folder as your app serves it. Default: Node finds it in
   * node_modules; a bundler (Vite, webpack 5) emits ORT's .wasm where ORT's module finds it.
   * Nothing is ever loaded from a CDN. Or ORT's per-file form (`{ mjs, wasm }`), for runtimes
   * without import.meta.url. */
  wasmPaths?: WasmPaths;
  /** A bundled model's files, where they cannot be fetched (an edge worker imports them as
   * modules): dist/models/NAME/manifest.json (text or parsed), the .onnx bytes of `dtype`'s
   * variant, vocab.json's text, and for the default model the evaluator it was calibrated with
   * (dist/models/evaluator/model.bin). The bytes must match the manifest's sha256. */
  files?: UseLiteFiles;
  /** ONNX Runtime wasm threads (browsers need cross-origin isolation for > 1). Default 1. */
  numThreads?: number;
  /** Browsers: run ONNX Runtime in its own worker so inference never blocks the page. Default false. */
  proxy?: boolean;
  /** The onnxruntime-web module (see OnnxSessionOptions.ort): only needed in a page or worker
   * without a bundler, e.g. `await import('/ort/ort.wasm.bundle.min.mjs')`. */
  ort?: OrtModule;
  signal?: AbortSignal;
  /** How to load the semcache core (the tokenizers). */
  wasm?: LoadCoreOptions;
}

export interface UseLiteFiles {
  manifest: string | object;
  model: Uint8Array | ArrayBuffer;
  vocab: string;
  /** The default model's evaluator (dist/models/evaluator/model.bin); without it a cache on this
   * embedder uses its calibrated cosine threshold. */
  evaluator?: Uint8Array | ArrayBuffer;
}

interface BundledManifest {
  format: string;
  version: number;
  name: string;
  model: { file: string; sha256: string };
  variants?: { q8?: { file: string; sha256: string } };
  dims: number;
  maxTokens: number;
  /** The cosine threshold calibrated for this model (tuned models). */
  threshold?: number;
  /** 'normalizePrompt': the model was trained on the core's normalized text form. */
  textNormalization?: string;
  /** The evaluator calibrated for this model: a cache with no evaluator/threshold uses it. */
  evaluator?: { file: string; maxFalseHitRate: number };
}

// The default model's files, each named by a literal `new URL(…, import.meta.url)` so that
// bundlers emit it (Vite, webpack 5, Parcel), and resolved on use: workerd has no import.meta.url.
// The npm package carries the default's int8 variant only (model_q8.onnx) and the evaluator it
// was calibrated with; 'fp32' and the original 'use-lite' are built in the repository (the package
// budget holds one encoder), found beside the default's directory.
const defaultFiles = {
  manifest: () => new URL('../models/use-lite-cache/manifest.json', import.meta.url),
  vocab: () => new URL('../models/use-lite-cache/vocab.json', import.meta.url),
  q8: () => new URL('../models/use-lite-cache/model_q8.onnx', import.meta.url),
  evaluator: () => new URL('../models/evaluator/model.bin', import.meta.url),
};
function bundledUrl(name: BundledModel, file: string): URL {
  if (name === DEFAULT_MODEL) {
    if (file === 'manifest.json') return defaultFiles.manifest();
    if (file === 'vocab.json') return defaultFiles.vocab();
    if (file === 'model_q8.onnx') return defaultFiles.q8();
    if (file === '../evaluator/model.bin') return defaultFiles.evaluator();
  }
  return new URL(`../${name}/${file}`, defaultFiles.manifest());
}

interface Tokenize {
  (texts: string[]): Int32Array[];
  dispose(): void;
}

export class OnnxEmbedder implements Embedder {
  private constructor(
    private readonly session: OnnxEmbeddingSession,
    private readonly tokenize: Tokenize,
    readonly id: string,
    readonly defaultThreshold: number | undefined,
    private readonly batchSize: number,
    readonly defaultEvaluator?: DefaultEvaluator,
  ) {}

  get dimensions(): number {
    return this.session.dims;
  }

  static async load(options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const { signal } = options;
    throwIfAborted(signal);
    const M = await loadCore(options.wasm);
    const fetchOpts = { onProgress: options.onProgress, signal, cache: options.cache };
    const batchSize = options.batchSize ?? 32;
    if (!(batchSize >= 1)) throw new SemcacheError('INVALID_ARGUMENT', `batchSize must be >= 1, got ${batchSize}`);

    const bundled = options.model === undefined ? (options.files ? null : DEFAULT_MODEL) : bundledName(options.model);
    if (bundled !== undefined) {
      const files = options.files;
      const where = `dist/models/${bundled ?? '(files)'}/manifest.json`;
      const manifestText = files ? files.manifest : await fetchText(bundledUrl(bundled!, 'manifest.json'), { ...fetchOpts, cache: false });
      const manifest = (typeof manifestText === 'string' ? JSON.parse(manifestText) : manifestText) as BundledManifest;
      if (manifest?.format !== 'semcache-onnx-model' || manifest.version !== 1) {
        throw new SemcacheError('UNSUPPORTED_VERSION', `${where} is ${manifest?.format} v${manifest?.version}, expected semcache-onnx-model v1`);
      }
      if (bundled && manifest.name !== bundled) throw new SemcacheError('MODEL_INVALID', `${where} describes '${manifest.name}'`);
      const dtype = options.dtype ?? 'q8';
      if (dtype !== 'q8' && dtype !== 'fp32') throw new SemcacheError('INVALID_ARGUMENT', `dtype must be 'q8' or 'fp32', got ${String(dtype)}`);
      const file = dtype === 'q8' ? manifest.variants?.q8 : manifest.model;
      if (!file) throw new SemcacheError('MODEL_INVALID', `${where} lists no q8 variant: rebuild the models (npm run build)`);
      const [model, vocab] = files
        ? [toBytes(files.model), files.vocab]
        : await Promise.all([
            fetchBytes(bundledUrl(bundled!, file.file), { ...fetchOpts, cache: false }),
            fetchText(bundledUrl(bundled!, 'vocab.json'), { ...fetchOpts, cache: false }),
          ]);
      const session = await OnnxEmbeddingSession.create({ model, expectedSha256: file.sha256, wasmPaths: options.wasmPaths, numThreads: options.numThreads, proxy: options.proxy, ort: options.ort });
      const normalize = manifest.textNormalization === 'normalizePrompt';
      if (manifest.textNormalization !== undefined && !normalize) throw new SemcacheError('UNSUPPORTED_VERSION', `${where}: unknown textNormalization '${manifest.textNormalization}'`);
      const tokenize = sentencePiece(M, vocab, options.maxLength ?? manifest.maxTokens, normalize);
      const threshold = options.threshold ?? manifest.threshold ?? USE_LITE_THRESHOLD;
      const ev = manifest.evaluator;
      const evaluatorModel = !ev ? undefined : files ? files.evaluator && toBytes(files.evaluator) : bundledUrl(bundled!, ev.file);
      const defaultEvaluator = evaluatorModel && ev ? { evaluator: 'learned' as const, evaluatorModel, maxFalseHitRate: ev.maxFalseHitRate } : undefined;
      return new OnnxEmbedder(session, tokenize, `${manifest.name}${dtype === 'q8' ? '-q8' : ''}@${file.sha256.slice(0, 12)}`, threshold, dtype === 'q8' ? 1 : batchSize, defaultEvaluator);
    }

    const modelUrl = typeof options.model === 'string' || options.model instanceof URL ? options.model : undefined;
    const modelBytes = modelUrl === undefined ? toBytes(options.model as Uint8Array | ArrayBuffer) : await fetchBytes(modelUrl, fetchOpts);
    let tokenizerJson: string;
    let modelMaxLength = 512;
    const t = options.tokenizer;
    if (t && typeof t === 'object' && !(t instanceof URL)) {
      tokenizerJson = t.json;
      modelMaxLength = t.modelMaxLength ?? modelMaxLength;
    } else {
      const url = t ?? (modelUrl !== undefined ? besideModel(modelUrl, 'tokenizer.json') : undefined);
      if (url === undefined) throw new SemcacheError('INVALID_ARGUMENT', 'a model given as bytes needs `tokenizer` ({ json } or a URL)');
      tokenizerJson = await fetchText(url, fetchOpts);
      try {
        const cfg = JSON.parse(await fetchText(new URL('tokenizer_config.json', new URL(String(url), baseUrl())), fetchOpts));
        if (typeof cfg.model_max_length === 'number') modelMaxLength = Math.min(cfg.model_max_length, 1 << 20);
      } catch {
        // no tokenizer_config.json: keep BERT's 512
      }
    }
    const session = await OnnxEmbeddingSession.create({
      model: modelBytes,
      wasmPaths: options.wasmPaths,
      numThreads: options.numThreads,
      proxy: options.proxy,
      ort: options.ort,
      pooling: options.pooling,
      normalize: options.normalize,
    });
    if (session.kind !== 'bert') {
      // A converted (pooled) model given by URL: its tokenizer must be given as SentencePiece vocab.
      await session.release();
      throw new SemcacheError('MODEL_INVALID', 'only BERT-style models (input_ids, attention_mask -> last_hidden_state) can be loaded with a tokenizer.json');
    }
    const tokenize = wordPiece(M, tokenizerJson, Math.min(options.maxLength ?? 256, modelMaxLength), modelMaxLength);
    const id = modelUrl !== undefined ? String(modelUrl) : `onnx-bytes:${modelBytes.length}`;
    return new OnnxEmbedder(session, tokenize, id, options.threshold, batchSize);
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      throwIfAborted(options.signal);
      const rows = this.tokenize(texts.slice(i, i + this.batchSize));
      rows.forEach((r, j) => {
        if (r.length === 0) throw new SemcacheError('INVALID_PROMPT', `text ${i + j} has nothing to embed (no tokens)`);
      });
      out.push(...(await this.session.embed(rows)));
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.tokenize.dispose();
    await this.session.release();
  }
}

/** A bundled model's name, undefined for anything else (a URL or bytes). */
function bundledName(model: OnnxEmbedderOptions['model']): BundledModel | undefined {
  return typeof model === 'string' && (BUNDLED_MODELS as readonly string[]).includes(model) ? (model as BundledModel) : undefined;
}

function sentencePiece(M: SemcacheCoreModule, vocabJson: string, maxLength: number, normalize: boolean): Tokenize {
  const tok: SentencePieceTokenizer = new M.SentencePieceTokenizer(vocabJson);
  // a tuned model saw only normalized text in training: give it that form whoever calls it
  const form = promptNormalizer(M);
  const prep = normalize ? (t: string) => form(wellFormed(t)) : wellFormed;
  const f = ((texts: string[]) => texts.map((t) => tok.encode(prep(t), maxLength))) as Tokenize;
  f.dispose = () => tok.delete();
  return f;
}

function wordPiece(M: SemcacheCoreModule, json: string, maxLength: number, modelMaxLength: number): Tokenize {
  let tok: WordPieceTokenizer;
  try {
    tok = M.WordPieceTokenizer.fromTokenizerJson(json, modelMaxLength);
  } catch (e) {
    throw new SemcacheError('MODEL_INVALID', `the tokenizer.json could not be used: ${(e as Error).message}`);
  }
  const f = ((texts: string[]) => texts.map((t) => tok.encode(wellFormed(t), maxLength))) as Tokenize;
  f.dispose = () => tok.delete();
  return f;
}

/** The core takes UTF-8; a lone surrogate becomes U+FFFD, as the reference tokenizers see it. */
function wellFormed(s: string): string {
  const w = (s as string & { toWellFormed?: () => string }).toWellFormed;
  return w ? w.call(s) : s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function besideModel(model: string | URL, file: string): URL {
  const u = new URL(String(model), baseUrl());
  const dir = new URL('./', u);
  return dir.pathname.endsWith('/onnx/') ? new URL(`../${file}`, dir) : new URL(file, dir);
}

function toBytes(b: Uint8Array | ArrayBuffer): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}
