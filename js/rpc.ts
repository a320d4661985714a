// The one request/response protocol semcache speaks to its workers and between tabs:
//   request  {id, verb, args}        response {id, result} | {id, error: {code, message}}
//   events   {id, event}             any number, for call `id`, before its response (progress, tokens)
//   cancel   {id, cancel: true}      aborts the handler's signal; the call still ends with a response
// Buffers listed as transfer move instead of being copied. Errors come back as SemcacheError with
// their code. When the other side dies (the worker's error event, terminate(), close()), every
// pending call is rejected: nobody waits forever.
//
// A protocol is an interface of verbs, `verb(...args): result`, imported by both sides (e.g.
// js/workers/opfs-protocol.ts); an events map types what each verb's handler emits.
import { SemcacheError, abortError, errorFromCode } from './errors.js';

export interface RpcRequest {
  id: number;
  verb: string;
  args: unknown[];
}

export interface RpcResponse {
  id: number;
  result?: unknown;
  error?: RpcError;
}

export interface RpcError {
  code: string;
  message: string;
}

export interface RpcEvent {
  id: number;
  event: unknown;
}

/** The shape of a protocol: verb -> (args) => result. */
export type RpcVerbs<P> = { [V in keyof P]: (...args: never[]) => unknown };
/** An untyped protocol: any verb, any args (tests, ad-hoc workers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyVerbs = Record<string, (...args: any[]) => unknown>;
/** A verb's args and (awaited) result. */
export type RpcArgs<F> = F extends (...args: infer A) => unknown ? A : never;
export type RpcResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;
type EventOf<E, V> = V extends keyof E ? E[V] : unknown;

export interface RpcCallOptions<Ev = unknown> {
  /** Buffers to move to the worker (default: those of typed arrays in args). */
  transfer?: Transferable[];
  /** Receives the events the handler emits for this call, in order, before the call settles. */
  onEvent?: (event: Ev) => void;
  /**
   * Aborting sends a cancel to the handler (its context's signal); the call then settles when the
   * worker answers, with ABORTED whatever the answer, so the worker is done with it by then.
   */
  signal?: AbortSignal;
}

export interface RpcClientOptions {
  /**
   * Error codes meaning "the serving side went away, its successor can answer": a call that gets
   * one stays pending (up to `maxRetries` times) until resend() sends it again.
   */
  retryOn?: readonly string[];
  /** Default 5. */
  maxRetries?: number;
}

/** `this` of a handler: the call's id, its cancel signal, and a way to stream events back. */
export interface RpcContext<Ev = unknown> {
  readonly id: number;
  readonly signal: AbortSignal;
  emit(event: Ev, transfer?: Transferable[]): void;
}

/** Anything with postMessage and message events: Worker, DedicatedWorkerGlobalScope, MessagePort. */
export interface RpcPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

export function encodeError(e: unknown): RpcError {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? err.code : err?.name === 'QuotaExceededError' ? 'QUOTA_EXCEEDED' : 'INTERNAL';
  return { code, message: String(err?.message ?? e) };
}

export function decodeError(e: RpcError): SemcacheError {
  return errorFromCode(e.code, e.message);
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
  request: RpcRequest;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (event: unknown) => void;
  /** Set once the caller aborted: the call rejects with it when the worker answers. */
  aborted?: SemcacheError;
  /** Drops the abort listener. */
  settled: () => void;
  retries: number;
}

/** The calling side. P: the protocol's verbs; E: the events each verb's handler emits. */
export class RpcClient<P extends RpcVerbs<P> = AnyVerbs, E = Record<never, never>> {
  private next = 1;
  private pending = new Map<number, Pending>();
  private dead?: SemcacheError;
  private readonly retryOn: ReadonlySet<string>;
  private readonly maxRetries: number;
  private readonly onMessage = (e: MessageEvent) => {
    const m = e.data as RpcResponse & Partial<RpcEvent>;
    const p = m && typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return;
    if ('event' in m) {
      if (!p.aborted) p.onEvent?.(m.event);
      return;
    }
    if (m.error && !p.aborted && this.retryOn.has(m.error.code) && p.retries < this.maxRetries) {
      p.retries++;  // stays pending: resend() gives it to the successor
      return;
    }
    this.pending.delete(m.id);
    p.settled();
    if (p.aborted) p.reject(p.aborted);
    else if (m.error) p.reject(decodeError(m.error));
    else p.resolve(m.result);
  };

  constructor(
    private readonly port: RpcPort,
    options: RpcClientOptions = {},
  ) {
    this.retryOn = new Set(options.retryOn ?? []);
    this.maxRetries = options.maxRetries ?? 5;
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
  call<V extends keyof P & string>(
    verb: V,
    args: RpcArgs<P[V]> = [] as unknown as RpcArgs<P[V]>,
    options: Transferable[] | RpcCallOptions<EventOf<E, V>> = {},
  ): Promise<RpcResult<P[V]>> {
    const o = (Array.isArray(options) ? { transfer: options } : options) as RpcCallOptions;
    if (this.dead) return Promise.reject(this.dead);
    const { signal } = o;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.next++;
    const request: RpcRequest = { id, verb, args: args as unknown[] };
    return new Promise<RpcResult<P[V]>>((resolve, reject) => {
      const p: Pending = { request, resolve: resolve as (v: unknown) => void, reject, onEvent: o.onEvent, settled: () => {}, retries: 0 };
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
        this.port.postMessage(request, o.transfer ?? transferablesOf(request.args));
      } catch (e) {
        this.pending.delete(id);
        p.settled();
        reject(new SemcacheError('INVALID_ARGUMENT', `cannot send ${verb} to the worker: ${(e as Error).message}`));
      }
    });
  }

  /** Sends every pending call again, as it was (nothing transferred): for ports whose serving
   * side can change (tabs), after a successor announced itself. It drops duplicates by id. */
  resend(): void {
    for (const p of this.pending.values()) {
      try {
        this.port.postMessage(p.request);
      } catch {
        // still nobody to send to: the next resend() tries again
      }
    }
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

/** A handler per verb, called with the request's args and, as `this`, its RpcContext. */
export type RpcHandlers<P extends RpcVerbs<P> = AnyVerbs, E = Record<never, never>> = {
  [V in keyof P]: (this: RpcContext<EventOf<E, V>>, ...args: RpcArgs<P[V]>) => RpcResult<P[V]> | Promise<RpcResult<P[V]>>;
};

/**
 * The serving side: answers each request with its handler's result (or error). A handler is
 * called with the request's args and, as `this`, its RpcContext (events, cancel signal).
 */
export function serveRpc<P extends RpcVerbs<P> = AnyVerbs, E = Record<never, never>>(
  port: RpcPort,
  handlers: RpcHandlers<P, E>,
  transferResult = (r: unknown) => transferablesOf([r]),
): () => void {
  const running = new Map<number, AbortController>();
  const table = handlers as unknown as Record<string, (this: RpcContext, ...a: unknown[]) => unknown>;
  const onMessage = async (e: MessageEvent) => {
    const m = e.data as RpcRequest & { cancel?: boolean };
    if (!m || typeof m.id !== 'number') return;
    if (m.cancel === true) {
      running.get(m.id)?.abort(new SemcacheError('ABORTED', 'the caller cancelled the call'));
      return;
    }
    if (typeof m.verb !== 'string') return;
    const h = Object.prototype.hasOwnProperty.call(table, m.verb) ? table[m.verb] : undefined;
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
      res = { id, result: await h.apply(ctx, m.args ?? []) };
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
