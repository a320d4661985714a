// GPT-2 text generation with a KV cache, on the wasm core. In a browser page the model runs in a
// dedicated worker (js/workers/gpt2-worker.ts) so generation never blocks the page; elsewhere
// (Node, or already inside a worker) it runs in the calling thread.
//
//   const gpt2 = await Gpt2.load({ url: 'https://huggingface.co/openai-community/gpt2/resolve/main' },
//                                { format: 'int8', onProgress: (p) => console.log(p.file, p.loaded, p.total) });
//   for await (const t of gpt2.generate('The meaning of life is', { maxTokens: 40, temperature: 0.8, seed: 1 }))
//     output += t.text;
//   console.log(gpt2.lastStats);   // { tokensPerSecond, kvCache, prefillMs, ... }
import { Gpt2Engine, type Gpt2GenerateOptions, type Gpt2Info, type Gpt2Stats, type Gpt2TokenEvent } from './gpt2/engine.js';
import type { Gpt2Progress, Gpt2Source } from './gpt2/source.js';
import { SemcacheError, abortError } from './errors.js';
import type { Gpt2WeightFormat } from './wasm/gpt2.js';
import { loadCore, type LoadCoreOptions } from './wasm.js';

export type { Gpt2GenerateOptions, Gpt2Info, Gpt2Stats, Gpt2TokenEvent } from './gpt2/engine.js';
export type { Gpt2Progress, Gpt2Source } from './gpt2/source.js';
export type { Gpt2WeightFormat } from './wasm/gpt2.js';

export interface Gpt2LoadOptions {
  /** How weights are kept: f32 (exact), f16 (half the memory), int8 with per-row scales (a quarter; fastest). Default f32. */
  format?: Gpt2WeightFormat;
  onProgress?: (p: Gpt2Progress) => void;
  /**
   * true: run in a new dedicated worker; a Worker: use that one (it must run gpt2-worker.js);
   * false: run in this thread. Default: a worker on a page's main thread, this thread elsewhere.
   */
  worker?: boolean | Worker;
  signal?: AbortSignal;
  /** How to load the wasm core when running in this thread. */
  wasm?: LoadCoreOptions;
}

type WorkerEvent =
  | { type: 'progress'; id: number; progress: Gpt2Progress }
  | { type: 'loaded'; id: number; info: Gpt2Info }
  | { type: 'token'; id: number; token: Gpt2TokenEvent }
  | { type: 'done'; id: number; stats: Gpt2Stats }
  | { type: 'error'; id: number; code: string; message: string };

export class Gpt2 {
  /** Statistics of the last generation that ran to its end. */
  lastStats: Gpt2Stats | undefined;
  private nextId = 1;
  private readonly listeners = new Map<number, (e: WorkerEvent) => void>();

  private constructor(
    readonly info: Gpt2Info,
    private engine: Gpt2Engine | undefined,
    private worker: Worker | undefined,
  ) {
    if (worker) worker.onmessage = (e: MessageEvent<WorkerEvent>) => this.listeners.get(e.data.id)?.(e.data);
  }

  /** True when the model runs in a dedicated worker. */
  get inWorker(): boolean {
    return this.worker !== undefined;
  }

  static async load(source: Gpt2Source, options: Gpt2LoadOptions = {}): Promise<Gpt2> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const onPage = typeof window !== 'undefined' && typeof document !== 'undefined';
    const useWorker = options.worker ?? (onPage && typeof Worker !== 'undefined');
    if (!useWorker) {
      const M = await loadCore(options.wasm);
      const engine = await Gpt2Engine.load(M, source, options.format ?? 'f32', options.onProgress, options.signal);
      return new Gpt2(engine.info(), engine, undefined);
    }
    if (useWorker === true && typeof Worker === 'undefined')
      throw new SemcacheError('INVALID_ARGUMENT', 'worker: true needs a Worker (a browser); pass worker: false here');
    const worker =
      typeof useWorker === 'object' ? useWorker : new Worker(new URL('./workers/gpt2-worker.js', import.meta.url), { type: 'module' });
    try {
      const info = await new Promise<Gpt2Info>((resolve, reject) => {
        const onAbort = () => {
          worker.postMessage({ type: 'cancel', id: 0 });
          reject(abortError(options.signal!));
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        worker.onerror = (e) => reject(new SemcacheError('WORKER_FAILED', `the GPT-2 worker failed: ${e.message}`));
        worker.onmessage = (e: MessageEvent<WorkerEvent>) => {
          const m = e.data;
          if (m.id !== 0) return;
          if (m.type === 'progress') options.onProgress?.(m.progress);
          else if (m.type === 'loaded') resolve(m.info);
          else if (m.type === 'error') reject(new SemcacheError(m.code, m.message));
          if (m.type !== 'progress') options.signal?.removeEventListener('abort', onAbort);
        };
        // bytes sources: the weights' buffer is transferred, not copied
        const transfer = 'weights' in source && source.weights instanceof ArrayBuffer ? [source.weights] : [];
        worker.postMessage({ type: 'load', id: 0, source, format: options.format ?? 'f32' }, transfer);
      });
      worker.onerror = null;
      return new Gpt2(info, undefined, worker);
    } catch (e) {
      if (typeof useWorker !== 'object') worker.terminate();
      throw e;
    }
  }

  /**
   * Generates up to `maxTokens` tokens after `prompt`, streamed as they are produced. Breaking out
   * of the loop or aborting `signal` stops the model (an abort throws SemcacheError ABORTED).
   */
  async *generate(prompt: string, options: Gpt2GenerateOptions = {}): AsyncGenerator<Gpt2TokenEvent> {
    const { signal, ...rest } = options;
    if (signal?.aborted) throw abortError(signal);
    if (this.engine) {
      yield* this.engine.generate(prompt, options, (s) => (this.lastStats = s));
      return;
    }
    const worker = this.worker;
    if (!worker) throw new SemcacheError('CLOSED', 'this GPT-2 model was disposed');
    const id = this.nextId++;
    const queue: WorkerEvent[] = [];
    let wake: (() => void) | undefined;
    this.listeners.set(id, (e) => {
      queue.push(e);
      wake?.();
      wake = undefined;
    });
    const onAbort = () => worker.postMessage({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      worker.postMessage({ type: 'generate', id, prompt, options: rest });
      for (;;) {
        if (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const e = queue.shift()!;
        if (e.type === 'token') {
          yield e.token;
        } else if (e.type === 'done') {
          finished = true;
          this.lastStats = e.stats;
          return;
        } else if (e.type === 'error') {
          finished = true;
          throw new SemcacheError(e.code, e.message);
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.listeners.delete(id);
      if (!finished) worker.postMessage({ type: 'cancel', id });
    }
  }

  /** Frees the model (and ends its worker). */
  dispose(): void {
    this.engine?.dispose();
    this.worker?.terminate();
    this.engine = undefined;
    this.worker = undefined;
  }
}
