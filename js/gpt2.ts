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
import type { Gpt2Events, Gpt2Protocol } from './gpt2/protocol.js';
import type { Gpt2Progress, Gpt2Source } from './gpt2/source.js';
import { SemcacheError, abortError } from './errors.js';
import { RpcClient, type RpcPort } from './rpc.js';
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
  /** Keep downloaded files (js/net.ts: a directory in Node, the Cache API in browsers). Default true. */
  cache?: boolean;
  /** How to load the wasm core when running in this thread. */
  wasm?: LoadCoreOptions;
}

export class Gpt2 {
  /** Statistics of the last generation that ran to its end. */
  lastStats: Gpt2Stats | undefined;

  private constructor(
    readonly info: Gpt2Info,
    private engine: Gpt2Engine | undefined,
    private rpc: RpcClient<Gpt2Protocol, Gpt2Events> | undefined,
  ) {}

  /** True when the model runs in a dedicated worker. */
  get inWorker(): boolean {
    return this.rpc !== undefined;
  }

  static async load(source: Gpt2Source, options: Gpt2LoadOptions = {}): Promise<Gpt2> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const onPage = typeof window !== 'undefined' && typeof document !== 'undefined';
    const useWorker = options.worker ?? (onPage && typeof Worker !== 'undefined');
    if (!useWorker) {
      const M = await loadCore(options.wasm);
      const engine = await Gpt2Engine.load(M, source, options.format ?? 'f32', options.onProgress, options.signal, options.cache);
      return new Gpt2(engine.info(), engine, undefined);
    }
    if (useWorker === true && typeof Worker === 'undefined')
      throw new SemcacheError('INVALID_ARGUMENT', 'worker: true needs a Worker (a browser); pass worker: false here');
    const worker =
      typeof useWorker === 'object' ? useWorker : new Worker(new URL('./workers/gpt2-worker.js', import.meta.url), { type: 'module' });
    const rpc = new RpcClient<Gpt2Protocol, Gpt2Events>(worker as unknown as RpcPort);
    try {
      // bytes sources: an ArrayBuffer of weights is transferred; a Uint8Array (maybe a view of
      // something bigger the caller keeps) is copied
      const transfer = source && 'weights' in source && source.weights instanceof ArrayBuffer ? [source.weights] : [];
      const info = await rpc.call('load', [source, options.format ?? 'f32', options.cache], {
        transfer,
        onEvent: (p) => options.onProgress?.(p),
        signal: options.signal,
      });
      return new Gpt2(info, undefined, rpc);
    } catch (e) {
      if (typeof useWorker !== 'object') rpc.terminate('the GPT-2 worker failed to load the model');
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
    const rpc = this.rpc;
    if (!rpc) throw new SemcacheError('CLOSED', 'this GPT-2 model was disposed');
    // The call's own signal: the caller's, or leaving the loop early.
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const tokens: Gpt2TokenEvent[] = [];
    let wake: (() => void) | undefined;
    let end: { stats: Gpt2Stats | undefined } | { error: unknown } | undefined;
    const call = rpc
      .call('generate', [prompt, rest], {
        onEvent: (t) => {
          tokens.push(t);
          wake?.();
        },
        signal: ctl.signal,
      })
      .then(
        (stats) => void (end = { stats }),
        (error: unknown) => void (end = { error }),
      )
      .finally(() => wake?.());
    try {
      for (;;) {
        if (tokens.length) {
          yield tokens.shift()!;
        } else if (end) {
          if ('error' in end) throw end.error;
          this.lastStats = end.stats;
          return;
        } else {
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // left early (break, or a throw in the loop's body): stop the worker and wait until it has
      // stopped, so the next generate() does not find the model busy
      if (!end) {
        ctl.abort();
        await call;
      }
    }
  }

  /** Frees the model (and ends its worker: a generation still running rejects with WORKER_DIED). */
  dispose(): void {
    this.engine?.dispose();
    this.rpc?.terminate('the GPT-2 model was disposed');
    this.engine = undefined;
    this.rpc = undefined;
  }
}
