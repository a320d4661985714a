/**
 * The one error class semcache throws. `code` is stable and machine-readable; `message` names
 * what was wrong. Errors from the wasm core keep the core's code (e.g. DIMENSION_MISMATCH).
 */
export type SemcacheErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_PROMPT'
  | 'INVALID_ANSWER'
  | 'INVALID_SCOPE'
  | 'DIMENSION_MISMATCH'
  | 'NOT_FINITE'
  | 'EMBEDDER_FAILED'
  | 'STORE_FAILED'
  | 'STORE_MISMATCH'
  | 'CORRUPT_SNAPSHOT'
  | 'SNAPSHOT_MISMATCH'
  | 'UNSUPPORTED_VERSION'
  | 'CAPACITY'
  | 'NOT_FOUND'
  | 'CLOSED'
  | 'ABORTED'
  | 'WASM_LOAD_FAILED'
  | 'OUT_OF_MEMORY'
  | 'INTERNAL'
  | (string & {});

export class SemcacheError extends Error {
  readonly code: SemcacheErrorCode;
  constructor(code: SemcacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SemcacheError';
    this.code = code;
  }
}

/** Re-wraps what the core threw ({name:'SemcacheError', code, message}) as a real SemcacheError. */
export function fromCore(e: unknown): unknown {
  if (e instanceof SemcacheError) return e;
  if (e && typeof e === 'object' && (e as { name?: unknown }).name === 'SemcacheError') {
    const { code, message } = e as { code: string; message: string };
    return new SemcacheError(code, message);
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
