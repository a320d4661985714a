// The one request/response protocol semcache speaks to its workers:
//   request  {id, verb, args}        response {id, result} | {id, error: {code, message}}
// Buffers listed as transfer move instead of being copied. Errors come back as SemcacheError with
// their code. When the other side dies (the worker's error event, terminate(), close()), every
// pending call is rejected: nobody waits forever.
import { SemcacheError } from './errors.js';

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

/** The calling side. */
export class RpcClient {
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead?: SemcacheError;
  private readonly onMessage = (e: MessageEvent) => {
    const m = e.data as RpcResponse;
    const p = m && typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error) p.reject(decodeError(m.error));
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

  call<T = unknown>(verb: string, args: unknown[] = [], transfer: Transferable[] = transferablesOf(args)): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.port.postMessage({ id, verb, args } satisfies RpcRequest, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(new SemcacheError('INVALID_ARGUMENT', `cannot send ${verb} to the worker: ${(e as Error).message}`));
      }
    });
  }

  /** Rejects every pending call and all later ones with `error`. */
  fail(error: SemcacheError): void {
    if (!this.dead) this.dead = error;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(this.dead);
  }

  /** Terminates a Worker port and fails what was pending. */
  terminate(reason = 'the worker was terminated'): void {
    (this.port as { terminate?: () => void }).terminate?.();
    this.port.removeEventListener('message', this.onMessage);
    this.fail(new SemcacheError('WORKER_DIED', reason));
  }
}

export type RpcHandlers = Record<string, (...args: never[]) => unknown>;

/** The serving side: answers each request with its handler's result (or error). */
export function serveRpc(port: RpcPort, handlers: RpcHandlers, transferResult = (r: unknown) => transferablesOf([r])): () => void {
  const onMessage = async (e: MessageEvent) => {
    const m = e.data as RpcRequest;
    if (!m || typeof m.id !== 'number' || typeof m.verb !== 'string') return;
    const h = Object.prototype.hasOwnProperty.call(handlers, m.verb) ? handlers[m.verb] : undefined;
    let res: RpcResponse;
    try {
      if (!h) throw new SemcacheError('INVALID_ARGUMENT', `unknown verb '${m.verb}'`);
      res = { id: m.id, result: await (h as (...a: unknown[]) => unknown)(...(m.args ?? [])) };
    } catch (err) {
      res = { id: m.id, error: encodeError(err) };
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
