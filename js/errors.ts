/**
 * Every code a SemcacheError can carry, each documented here once: the JS layer's and the wasm
 * core's (src/common/error.h lists the core's; tests/js/error-codes.test.ts checks that every code
 * thrown in js/, src/ and bindings/ is one of these). The message then names what was wrong.
 */
export const ERROR_CODES = {
  // Bad input: the call is refused and nothing changed.
  INVALID_ARGUMENT: 'an option or argument is missing, of the wrong type or out of its range',
  INVALID_PROMPT: 'the prompt is not a non-empty, well-formed string of at most maxPromptChars',
  INVALID_ANSWER: 'the answer is not a well-formed string of at most maxAnswerBytes (UTF-8)',
  INVALID_SCOPE: 'a scope is neither a string nor a JSON-serializable object',
  INVALID_REQUEST: 'an HTTP request the server or edge worker cannot use (body shape, uncacheable request)',
  PAYLOAD_TOO_LARGE: 'an HTTP request body over the server’s maxBodyBytes',
  DIMENSION_MISMATCH: 'a vector’s length differs from the cache’s dimensions',
  NOT_FINITE: 'a vector component, timestamp or ttl is NaN or infinite',
  CAPACITY: 'one entry alone exceeds maxBytes, or the 2^32 entry ids are used up',
  NOT_FOUND: 'no entry with that id, or a local file that is not there',
  CONFIG: 'the edge worker’s environment configuration is missing or invalid',
  UPSTREAM_FAILED: 'the server or edge worker could not reach the upstream LLM (HTTP 502)',
  UPSTREAM_TIMEOUT: 'the upstream LLM sent no byte within the upstream timeout (HTTP 504)',
  // HTTP access (docs/security.md): who may call which route of the server or edge worker.
  UNAUTHORIZED: 'a route that needs the admin token or a tenant token got none or a wrong one (HTTP 401)',
  FORBIDDEN: 'the caller may not use this route, e.g. writes without an admin token from off loopback (HTTP 403)',
  CROSS_ORIGIN: 'a cross-site request to a route that did not opt into it (HTTP 403)',
  HOST_NOT_ALLOWED: 'a Host header the server does not answer to (DNS rebinding; HTTP 403)',
  NO_ROUTE: 'no route at this path (HTTP 404)',
  METHOD_NOT_ALLOWED: 'the route does not take this HTTP method (HTTP 405)',
  BODY_TIMEOUT: 'the request body did not arrive within the body timeout (HTTP 408)',
  UNSUPPORTED_MEDIA_TYPE: 'a JSON route got a body that is not application/json (HTTP 415)',
  JSON_TOO_DEEP: 'a JSON body nested deeper than the limit (HTTP 400)',
  // Models: embedders, the evaluator model, tokenizers, GPT-2.
  EMBEDDER_FAILED: 'the embedder threw, or did not return one finite vector per text',
  EMBED_INPUT: 'an ONNX embedder was given a text that tokenizes to nothing',
  MODEL_INVALID: 'ONNX Runtime cannot use the model, or its inputs/outputs/tokenizer are not of a supported kind',
  MODEL_CHECKSUM: 'model bytes whose sha256 differs from their manifest',
  CORRUPT_MODEL: 'a model file the core parses (evaluator model, GPT-2 weights or config, BPE vocabulary) is malformed',
  UNSUPPORTED_MODEL: 'a well-formed GPT-2 checkpoint the core cannot run (dtype, activation, weight range)',
  INVALID_VOCAB: 'a SentencePiece or WordPiece vocabulary is malformed',
  CONTEXT_FULL: 'GPT-2 generation reached n_positions with overflow "stop"',
  BUSY: 'this GPT-2 model is already generating (one generation at a time)',
  NOT_LOADED: 'the GPT-2 worker was asked to generate before a model was loaded',
  FETCH_FAILED: 'downloading a file failed (network error, HTTP status, truncated body)',
  REMOTE_FAILED: 'a remote cache tier (remoteCache) could not be reached, did not answer in time or answered with an error',
  WASM_LOAD_FAILED: 'the wasm core could not be fetched or instantiated',
  OUT_OF_MEMORY: 'the wasm heap has no room left',
  // Storage: rows, snapshots, databases.
  STORE_FAILED: 'the store could not read or write (the message carries the driver’s error)',
  STORE_BUSY: 'another worker kept the OPFS files of this cache name past the wait',
  STORE_MISMATCH: 'the store, another tab or an import file holds vectors of another embedder, dimension or space',
  CORRUPT_DATABASE: 'the SQLite database is damaged (open with onCorrupt: "reset" to start fresh)',
  QUOTA_EXCEEDED: 'storage is full even after evicting a tenth of the entries',
  CORRUPT_SNAPSHOT: 'an index snapshot fails its checksum or is inconsistent',
  SNAPSHOT_MISMATCH: 'an index snapshot of another shape (dimensions, space, hnswlib label width, or without the prompt signatures the evaluator needs)',
  CORRUPT_EXPORT: 'an export file (cache.import) is truncated, fails a checksum or is not a semcache export',
  UNSUPPORTED_VERSION: 'a file, snapshot, schema or model of a format version this semcache does not read',
  // Lifecycle.
  CLOSED: 'the cache, model or session was closed (or never opened)',
  ABORTED: 'the caller’s AbortSignal fired (or, inside the core, a snapshot being written in slices was overtaken by a clear or a load)',
  WORKER_DIED: 'the worker crashed, was terminated or sent an unreadable message',
  INTERNAL: 'a bug: an unexpected exception in the core or a worker (please report it)',
} as const;

export type SemcacheErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is SemcacheErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/**
 * The one error class semcache throws. `code` is stable and machine-readable (ERROR_CODES);
 * `message` names what was wrong. Errors from the wasm core keep the core's code.
 */
export class SemcacheError extends Error {
  readonly code: SemcacheErrorCode;
  constructor(code: SemcacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SemcacheError';
    this.code = code;
  }
}

/** A SemcacheError from a code that crossed a boundary as a string (the core, a worker, RPC). */
export function errorFromCode(code: unknown, message: string): SemcacheError {
  return isErrorCode(code) ? new SemcacheError(code, message) : new SemcacheError('INTERNAL', `${String(code)}: ${message}`);
}

/** Re-wraps what the core threw ({name:'SemcacheError', code, message}) as a real SemcacheError. */
export function fromCore(e: unknown): unknown {
  if (e instanceof SemcacheError) return e;
  if (e && typeof e === 'object' && (e as { name?: unknown }).name === 'SemcacheError') {
    const { code, message } = e as { code: unknown; message: string };
    return errorFromCode(code, message);
  }
  if (e instanceof WebAssembly.RuntimeError) {
    return new SemcacheError('INTERNAL', `wasm core trapped: ${e.message}`, { cause: e });
  }
  return e;
}

/** Runs a core call, converting its errors. */
export function core<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromCore(e);
  }
}

export function abortError(signal: AbortSignal): SemcacheError {
  return new SemcacheError('ABORTED', 'operation aborted', { cause: signal.reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
