// An ONNX Runtime Web (wasm) session for sentence-embedding models converted by
// tools/convert-use: inputs input_ids int32 (batch, seq) + lengths int32 (batch),
// output embeddings float32 (batch, dims). No tokenizer here: callers pass token ids.
//
// wasm files always come from the onnxruntime-web package itself: in Node its dist/
// folder in node_modules (found through import.meta.resolve); in a browser or worker
// the caller passes the URL where that folder is served. Nothing is fetched from a CDN.
import * as ort from 'onnxruntime-web/wasm';

export interface OnnxSessionOptions {
  /** The model file's bytes (e.g. dist/models/use-lite/model.onnx). */
  model: Uint8Array | ArrayBuffer;
  /** Hex sha256 the bytes must have (from the model's manifest.json); checked before loading. */
  expectedSha256?: string;
  /** URL (or file path, in Node) of onnxruntime-web's dist/ folder, ending with '/'.
   * Required outside Node. */
  wasmPaths?: string | URL;
  /** wasm threads; > 1 needs cross-origin isolation in browsers. Default 1. Applies to the
   * first session of the process/page: ORT fixes it when its wasm loads. */
  numThreads?: number;
  /** Run ORT in its own worker (browsers). Inputs are transferred, so each run makes new tensors. */
  proxy?: boolean;
}

export type SemcacheErrorCode = 'MODEL_INVALID' | 'MODEL_CHECKSUM' | 'EMBED_INPUT' | 'EMBED_FAILED' | 'CLOSED';

export interface SemcacheError extends Error {
  name: 'SemcacheError';
  code: SemcacheErrorCode;
}

// Same shape as the errors thrown by the wasm bindings ({name, code, message}).
function semcacheError(code: SemcacheErrorCode, message: string, cause?: unknown): SemcacheError {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as SemcacheError;
  e.name = 'SemcacheError';
  e.code = code;
  return e;
}

const INPUT_IDS = 'input_ids';
const LENGTHS = 'lengths';
const OUTPUT = 'embeddings';

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

// onnxruntime-web's dist/ folder as a file URL, in Node.
function nodeWasmPaths(): string {
  const resolve = (import.meta as ImportMeta & { resolve?: (s: string) => string }).resolve;
  if (typeof resolve !== 'function')
    throw semcacheError('MODEL_INVALID', 'cannot locate onnxruntime-web in node_modules (import.meta.resolve missing): pass wasmPaths');
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

export class OnnxEmbeddingSession {
  private session: ort.InferenceSession | null;
  /** Embedding width, read from the model's output shape. */
  readonly dims: number;

  private constructor(session: ort.InferenceSession, dims: number) {
    this.session = session;
    this.dims = dims;
  }

  static async create(opts: OnnxSessionOptions): Promise<OnnxEmbeddingSession> {
    const bytes = toBytes(opts.model);
    if (opts.expectedSha256 !== undefined) {
      const got = await sha256Hex(bytes);
      if (got !== opts.expectedSha256.toLowerCase())
        throw semcacheError('MODEL_CHECKSUM', `model bytes have sha256 ${got}, the manifest says ${opts.expectedSha256}`);
    }
    if (!configured) {
      const paths = opts.wasmPaths ?? (isNode() ? nodeWasmPaths() : undefined);
      if (paths === undefined)
        throw semcacheError('MODEL_INVALID', 'wasmPaths is required outside Node: the URL of onnxruntime-web/dist/ as served by the app');
      ort.env.wasm.wasmPaths = String(paths);
      ort.env.wasm.numThreads = opts.numThreads ?? 1;
      ort.env.wasm.proxy = opts.proxy ?? false;
      configured = true;
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    } catch (err) {
      throw semcacheError('MODEL_INVALID', `ONNX Runtime could not load the model: ${(err as Error).message}`, err);
    }
    const names = [...session.inputNames].sort().join(',');
    if (names !== [INPUT_IDS, LENGTHS].sort().join(',') || !session.outputNames.includes(OUTPUT)) {
      await session.release();
      throw semcacheError('MODEL_INVALID', `model has inputs [${session.inputNames}] and outputs [${session.outputNames}], expected [${INPUT_IDS}, ${LENGTHS}] -> [${OUTPUT}]`);
    }
    const meta = session.outputMetadata.find((m) => m.name === OUTPUT);
    const last = meta && meta.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    if (typeof last !== 'number' || last <= 0) {
      await session.release();
      throw semcacheError('MODEL_INVALID', `model output ${OUTPUT} has no fixed embedding width`);
    }
    return new OnnxEmbeddingSession(session, last);
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
    // new buffers every run: with proxy=true ORT transfers (detaches) them
    const ids = new Int32Array(rows.length * T);
    const lengths = new Int32Array(rows.length);
    rows.forEach((r, i) => { ids.set(r, i * T); lengths[i] = r.length; });
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({
        [INPUT_IDS]: new ort.Tensor('int32', ids, [rows.length, T]),
        [LENGTHS]: new ort.Tensor('int32', lengths, [rows.length]),
      });
    } catch (err) {
      throw semcacheError('EMBED_FAILED', `ONNX Runtime run failed: ${(err as Error).message}`, err);
    }
    const e = out[OUTPUT] as ort.Tensor;
    const data = e.data as Float32Array;
    if (e.type !== 'float32' || e.dims.length !== 2 || e.dims[0] !== rows.length || e.dims[1] !== this.dims)
      throw semcacheError('EMBED_FAILED', `model returned ${e.type} [${e.dims}], expected float32 [${rows.length}, ${this.dims}]`);
    const result = rows.map((_, i) => data.slice(i * this.dims, (i + 1) * this.dims));
    e.dispose();
    return result;
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}
