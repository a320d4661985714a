// Types of model-server.mjs (a GPT-2 checkpoint host for tests and bench/gpt2-url.mjs).
export interface TinyConfig {
  vocabSize?: number;
  nPositions?: number;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  /** Add h.N.attn.bias (the causal-mask buffers Hugging Face's GPT-2 files carry). */
  attnBias?: boolean;
}
export function randomCheckpoint(shape?: TinyConfig, seed?: number): { config: string; weights: Buffer };
export const tokenizerFiles: { 'vocab.json': Buffer; 'merges.txt': Buffer };
export interface Hit {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
  /** Body bytes written before the response ended (or was cut). */
  sent: number;
}
export interface ModelServer {
  url: string;
  hits: Hit[];
  /** Puts a file at `/<folder>/<name>` with a new ETag. */
  put(file: string, body: Buffer | string): void;
  etag(file: string): string | undefined;
  /** The next request for `file` is cut (connection closed) or stalled (held open) after `after` body bytes; resolves when it happens. */
  fault(file: string, kind: 'cut' | 'stall', after: number): Promise<void>;
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange: boolean;
  close(): Promise<void>;
}
/** Folders named `nocors*` are sent without CORS headers. */
export function serveModels(): Promise<ModelServer>;
export function putCheckpoint(server: ModelServer, folder: string, shape?: TinyConfig, seed?: number): { config: string; weights: Buffer };
export function sha256(b: Uint8Array): string;
