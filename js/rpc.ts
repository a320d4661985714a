// The one request/response protocol semcache speaks to its workers:
//   request  {id, verb, args}        response {id, result} | {id, error: {code, message}}
//   events   {id, event}             any number, for call `id`, before its response (progress, tokens)
//   cancel   {id, cancel: true}      aborts the handler's signal; the call still ends with a response
// Buffers listed as transfer move instead of being copied. Errors come back as SemcacheError with
// their code. When the other side dies (the worker's error event, terminate(), close()), every
// pending call is rejected: nobody waits forever.
import { SemcacheError, abortError } from './errors.js';

export interface RpcRequest {
  id: number;
  verb: string;
  args: unknown[];
}

export interface RpcResponse {
  id: number;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface RpcEvent {
  id: number;
  event: unknown;
}

export interface RpcCallOptions {
  /** Buffers to move to the worker (default: those of typed arrays in args). */
  transfer?: Transferable[];
  /** Receives the events the handler emits for this call, in order, before the call settles. */
  onEvent?: (event: unknown) => void;
  /**
   * Aborting sends a cancel to the handler (its context's signal); the call then settles when the
   * worker answers, with ABORTED whatever the answer, so the worker is done with it by then.
   */
  signal?: AbortSignal;
}

/** `this` of a handler: the call's id, its cancel signal, and a way to stream events back. */
export interface RpcContext {
  readonly id: number;
  readonly signal: AbortSignal;
  emit(event: unknown, transfer?: Transferable[]): void;
}

/** Anything with postMessage and message events: Worker, DedicatedWorkerGlobalScope, MessagePort. */
export interface RpcPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

export function encodeError(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? err.code : err?.name === 'QuotaExceededError' ? 'QUOTA_EXCEEDED' : 'INTERNAL';
  return { code, message: String(err?.message ?? e) };
}

export function decodeError(e: { code: string; message: string }): SemcacheError {
  return new SemcacheError(e.code, e.message);
}

/** Buffers of typed arrays found at the top level of args (or one level down in arrays). */
export function transferablesOf(args: unknown[]): Transferable[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    else if (Array.isArray(v) && depth < 2) for (const x of v) visit(x, depth + 1);
    else if (v && typeof v === 'object' && depth < 2 && Object.getPrototypeOf(v) === Object.prototype) {
      for (const x of Object.values(v)) visit(x, depth + 1);
    }
  };
  for (const a of args) visit(a, 0);
  return [...out];
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (event: unknown) => void;
  /** Set once the caller aborted: the call rejects with it when the worker answers. */
  aborted?: SemcacheError;
  /** Drops the abort listener. */
  settled: () => void;
}

/** The calling side. */
export class RpcClient {
  private next = 1;
  private pending = new Map<number, Pending>();
  private dead?: SemcacheError;
  private readonly onMessage = (e: MessageEvent) => {
    const m = e.data as RpcResponse & Partial<RpcEvent>;
    const p = m && typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return;
    if ('event' in m) {
      if (!p.aborted) p.onEvent?.(m.event);
      return;
    }
    this.pending.delete(m.id);
    p.settled();
    if (p.aborted) p.reject(p.aborted);
    else if (m.error) p.reject(decodeError(m.error));
    else p.resolve(m.result);
  };

  constructor(private readonly port: RpcPort) {
    port.addEventListener('message', this.onMessage);
    const w = port as { addEventListener(t: string, l: (e: Event) => void): void };
    // A worker that throws at top level or fails to load: nothing it owed will ever arrive.
    w.addEventListener('error' as 'message', ((e: ErrorEvent) => this.fail(new SemcacheError('WORKER_DIED', `the worker failed: ${e.message ?? 'error event'}`))) as never);
    w.addEventListener('messageerror' as 'message', (() => this.fail(new SemcacheError('WORKER_DIED', 'a message from the worker could not be read'))) as never);
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  /** `options` may be the transfer list alone. */
  call<T = unknown>(verb: string, args: unknown[] = [], options: Transferable[] | RpcCallOptions = {}): Promise<T> {
    const o: RpcCallOptions = Array.isArray(options) ? { transfer: options } : options;
    if (this.dead) return Promise.reject(this.dead);
    const { signal } = o;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, onEvent: o.onEvent, settled: () => {} };
      if (signal) {
        const onAbort = () => {
          if (p.aborted || !this.pending.has(id)) return;
          p.aborted = abortError(signal);
          try {
            this.port.postMessage({ id, cancel: true });
          } catch {
            // the port is gone: its error or terminate() rejects the call
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        p.settled = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, p);
      try {
        this.port.postMessage({ id, verb, args } satisfies RpcRequest, o.transfer ?? transferablesOf(args));
      } catch (e) {
        this.pending.delete(id);
        p.settled();
        reject(new SemcacheError('INVALID_ARGUMENT', `cannot send ${verb} to the worker: ${(e as Error).message}`));
      }
    });
  }

  /** Rejects every pending call and all later ones with `error`. */
  fail(error: SemcacheError): void {
    if (!this.dead) this.dead = error;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) {
      p.settled();
      p.reject(this.dead);
    }
  }

  /** Terminates a Worker port and fails what was pending. */
  terminate(reason = 'the worker was terminated'): void {
    (this.port as { terminate?: () => void }).terminate?.();
    this.port.removeEventListener('message', this.onMessage);
    this.fail(new SemcacheError('WORKER_DIED', reason));
  }
}

export type RpcHandlers = Record<string, (this: RpcContext, ...args: never[]) => unknown>;

/**
 * The serving side: answers each request with its handler's result (or error). A handler is
 * called with the request's args and, as `this`, its RpcContext (events, cancel signal).
 */
export function serveRpc(port: RpcPort, handlers: RpcHandlers, transferResult = (r: unknown) => transferablesOf([r])): () => void {
  const running = new Map<number, AbortController>();
  const onMessage = async (e: MessageEvent) => {
    const m = e.data as RpcRequest & { cancel?: boolean };
    if (!m || typeof m.id !== 'number') return;
    if (m.cancel === true) {
      running.get(m.id)?.abort(new SemcacheError('ABORTED', 'the caller cancelled the call'));
      return;
    }
    if (typeof m.verb !== 'string') return;
    const h = Object.prototype.hasOwnProperty.call(handlers, m.verb) ? handlers[m.verb] : undefined;
    const ctl = new AbortController();
    const id = m.id;
    const ctx: RpcContext = {
      id,
      signal: ctl.signal,
      emit: (event, transfer = []) => {
        if (running.has(id)) port.postMessage({ id, event } satisfies RpcEvent, transfer);
      },
    };
    running.set(id, ctl);
    let res: RpcResponse;
    try {
      if (!h) throw new SemcacheError('INVALID_ARGUMENT', `unknown verb '${m.verb}'`);
      res = { id, result: await (h as (this: RpcContext, ...a: unknown[]) => unknown).apply(ctx, m.args ?? []) };
    } catch (err) {
      res = { id, error: encodeError(err) };
    } finally {
      running.delete(id);
    }
    try {
      port.postMessage(res, res.error ? [] : transferResult(res.result));
    } catch (err) {
      port.postMessage({ id: m.id, error: encodeError(err) });
    }
  };
  port.addEventListener('message', onMessage);
  return () => port.removeEventListener('message', onMessage);
}
