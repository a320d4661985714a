// An ONNX Runtime Web (wasm) session for sentence-embedding models, of two kinds:
//  - 'pooled': converted by tools/convert-use: input_ids int32 (batch, seq) + lengths int32
//    (batch) -> embeddings float32 (batch, dims), already pooled and normalized;
//  - 'bert': Hugging Face BERT-style exports (all-MiniLM-L6-v2, bge-small, e5-small):
//    input_ids / attention_mask / token_type_ids int64 (batch, seq) -> last_hidden_state
//    float32 (batch, seq, dims), pooled here (mean over the mask, or CLS) and normalized.
// No tokenizer here: callers pass token ids.
//
// wasm files always come from the onnxruntime-web package itself: in Node its dist/
// folder in node_modules (found through import.meta.resolve); in a browser or worker
// wherever the app serves them (by default where ORT's module finds them: next to itself, or
// where a bundler emitted them). Nothing is fetched from a CDN.
import type * as Ort from 'onnxruntime-web/wasm';
import { SemcacheError, type SemcacheErrorCode } from '../errors.js';

export type OrtModule = typeof Ort;

export interface OnnxSessionOptions {
  /** The onnxruntime-web module. Default: `import('onnxruntime-web/wasm')`, which bundlers and
   * Node resolve; a page without a bundler passes `await import('/its/ort.wasm.bundle.min.mjs')`. */
  ort?: OrtModule;
  /** The model file's bytes (e.g. dist/models/use-lite/model.onnx). */
  model: Uint8Array | ArrayBuffer;
  /** Hex sha256 the bytes must have (from the model's manifest.json); checked before loading. */
  expectedSha256?: string;
  /** URL (or file path, in Node) of onnxruntime-web's dist/ folder, ending with '/'. Default:
   * node_modules in Node; elsewhere where ORT's module finds its files itself (beside it, or as
   * a bundler emitted them). Or ORT's per-file form, e.g. `{ mjs: './ort-wasm-simd-threaded.mjs' }`
   * where the runtime has no import.meta.url to derive it from (workerd). */
  wasmPaths?: WasmPaths;
  /** wasm threads; > 1 needs cross-origin isolation in browsers. Default 1. Applies to the
   * first session of the process/page: ORT fixes it when its wasm loads. */
  numThreads?: number;
  /** Run ORT in its own worker (browsers). Inputs are transferred, so each run makes new tensors. */
  proxy?: boolean;
  /** 'bert' models: how token vectors become one ('mean' over the attention mask, or 'cls'). Default 'mean'. */
  pooling?: 'mean' | 'cls';
  /** 'bert' models: L2-normalize the pooled vector. Default true. */
  normalize?: boolean;
}

export type OnnxModelKind = 'pooled' | 'bert';
/** ORT's wasm locations: a folder, or its two files by name. */
export type WasmPaths = string | URL | { mjs?: string | URL; wasm?: string | URL };

function semcacheError(code: SemcacheErrorCode, message: string, cause?: unknown): SemcacheError {
  return new SemcacheError(code, message, cause === undefined ? undefined : { cause });
}

const INPUT_IDS = 'input_ids';
const LENGTHS = 'lengths';
const OUTPUT = 'embeddings';
const BERT_INPUTS = ['input_ids', 'attention_mask'];
const BERT_OUTPUTS = ['last_hidden_state', 'token_embeddings'];

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

// onnxruntime-web's dist/ folder as a file URL, in Node.
function nodeWasmPaths(): string {
  const resolve = (import.meta as ImportMeta & { resolve?: (s: string) => string }).resolve;
  if (typeof resolve !== 'function')
    throw semcacheError('INVALID_ARGUMENT', 'cannot locate onnxruntime-web in node_modules (import.meta.resolve missing): pass wasmPaths');
  const entry = resolve('onnxruntime-web/wasm');
  return entry.slice(0, entry.lastIndexOf('/') + 1);
}

function toBytes(model: Uint8Array | ArrayBuffer): Uint8Array {
  return model instanceof Uint8Array ? model : new Uint8Array(model);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

let configured = false;
let ortModule: OrtModule | undefined;

export class OnnxEmbeddingSession {
  private session: Ort.InferenceSession | null;

  private constructor(
    private readonly ort: OrtModule,
    session: Ort.InferenceSession,
    /** Embedding width, read from the model's output shape. */
    readonly dims: number,
    readonly kind: OnnxModelKind,
    private readonly output: string,
    private readonly pooling: 'mean' | 'cls',
    private readonly normalize: boolean,
  ) {
    this.session = session;
  }

  static async create(opts: OnnxSessionOptions): Promise<OnnxEmbeddingSession> {
    const bytes = toBytes(opts.model);
    if (opts.expectedSha256 !== undefined) {
      const got = await sha256Hex(bytes);
      if (got !== opts.expectedSha256.toLowerCase())
        throw semcacheError('MODEL_CHECKSUM', `model bytes have sha256 ${got}, the manifest says ${opts.expectedSha256}`);
    }
    const ort = (ortModule ??= opts.ort ?? (await import('onnxruntime-web/wasm')));
    if (!configured) {
      // Elsewhere ORT's own module finds its .wasm with `new URL(file, import.meta.url)`, which
      // bundlers (Vite, webpack 5) follow and emit, and which works unbundled from node_modules.
      const paths = opts.wasmPaths ?? (isNode() ? nodeWasmPaths() : undefined);
      if (paths !== undefined) ort.env.wasm.wasmPaths = typeof paths === 'string' || paths instanceof URL ? String(paths) : paths;
      ort.env.wasm.numThreads = opts.numThreads ?? 1;
      ort.env.wasm.proxy = opts.proxy ?? false;
      configured = true;
    }
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    } catch (err) {
      throw semcacheError('MODEL_INVALID', `ONNX Runtime could not load the model: ${(err as Error).message}`, err);
    }
    const inputs = [...session.inputNames];
    const pooled = inputs.length === 2 && inputs.includes(INPUT_IDS) && inputs.includes(LENGTHS) && session.outputNames.includes(OUTPUT);
    const bertOut = BERT_OUTPUTS.find((o) => session.outputNames.includes(o));
    const bert = BERT_INPUTS.every((i) => inputs.includes(i)) && inputs.every((i) => [...BERT_INPUTS, 'token_type_ids'].includes(i)) && bertOut;
    if (!pooled && !bert) {
      await session.release();
      throw semcacheError(
        'MODEL_INVALID',
        `model has inputs [${inputs}] and outputs [${session.outputNames}]; expected [${INPUT_IDS}, ${LENGTHS}] -> [${OUTPUT}] or a BERT-style [input_ids, attention_mask(, token_type_ids)] -> [last_hidden_state]`,
      );
    }
    const output = pooled ? OUTPUT : bertOut!;
    const meta = session.outputMetadata.find((m) => m.name === output);
    const last = meta && meta.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    if (typeof last !== 'number' || last <= 0) {
      await session.release();
      throw semcacheError('MODEL_INVALID', `model output ${output} has no fixed embedding width`);
    }
    return new OnnxEmbeddingSession(ort, session, last, pooled ? 'pooled' : 'bert', output, opts.pooling ?? 'mean', opts.normalize ?? true);
  }

  /** Embeds a batch of token-id rows (padded here); one Float32Array of `dims` per row. */
  async embed(rows: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]> {
    const session = this.session;
    if (!session) throw semcacheError('CLOSED', 'embed() after release()');
    if (rows.length === 0) return [];
    let T = 0;
    rows.forEach((r, i) => {
      if (r.length === 0) throw semcacheError('EMBED_INPUT', `row ${i} has no tokens`);
      T = Math.max(T, r.length);
    });
    const B = rows.length;
    // new buffers every run: with proxy=true ORT transfers (detaches) them
    const ort = this.ort;
    let feeds: Record<string, Ort.Tensor>;
    if (this.kind === 'pooled') {
      const ids = new Int32Array(B * T);
      const lengths = new Int32Array(B);
      rows.forEach((r, i) => {
        ids.set(r, i * T);
        lengths[i] = r.length;
      });
      feeds = { [INPUT_IDS]: new ort.Tensor('int32', ids, [B, T]), [LENGTHS]: new ort.Tensor('int32', lengths, [B]) };
    } else {
      const ids = new BigInt64Array(B * T);
      const mask = new BigInt64Array(B * T);
      rows.forEach((r, i) => {
        for (let j = 0; j < r.length; j++) {
          ids[i * T + j] = BigInt(r[j]!);
          mask[i * T + j] = 1n;
        }
      });
      feeds = { input_ids: new ort.Tensor('int64', ids, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, T]) };
      if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]);
    }
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch (err) {
      throw semcacheError('EMBEDDER_FAILED', `ONNX Runtime run failed: ${(err as Error).message}`, err);
    }
    const e = out[this.output] as Ort.Tensor;
    const data = e.data as Float32Array;
    const D = this.dims;
    let result: Float32Array[];
    if (this.kind === 'pooled') {
      if (e.type !== 'float32' || e.dims.length !== 2 || e.dims[0] !== B || e.dims[1] !== D)
        throw semcacheError('EMBEDDER_FAILED', `model returned ${e.type} [${e.dims}], expected float32 [${B}, ${D}]`);
      result = rows.map((_, i) => data.slice(i * D, (i + 1) * D));
    } else {
      if (e.type !== 'float32' || e.dims.length !== 3 || e.dims[0] !== B || e.dims[1] !== T || e.dims[2] !== D)
        throw semcacheError('EMBEDDER_FAILED', `model returned ${e.type} [${e.dims}], expected float32 [${B}, ${T}, ${D}]`);
      // x is (B, T, D); a row's vector is its CLS token or the mean of its real tokens
      result = rows.map((r, i) => {
        const v = new Float32Array(D);
        const n = this.pooling === 'cls' ? 1 : r.length;
        for (let t = 0; t < n; t++) {
          const off = (i * T + t) * D;
          for (let d = 0; d < D; d++) v[d]! += data[off + d]!;
        }
        for (let d = 0; d < D; d++) v[d]! /= n;
        if (this.normalize) {
          let s = 0;
          for (const x of v) s += x * x;
          const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
          for (let d = 0; d < D; d++) v[d]! *= inv;
        }
        return v;
      });
    }
    e.dispose();
    return result;
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}
