// Dedicated worker running GPT-2 off the page's main thread (started by Gpt2.load). It speaks
// js/rpc.ts:
//   load(source, format) -> Gpt2Info        events: Gpt2Progress while the files download
//   generate(prompt, options) -> Gpt2Stats  events: Gpt2TokenEvent, one per generated token
// A cancel (the caller's AbortSignal) stops either one with ABORTED.
import { Gpt2Engine, type Gpt2Stats } from '../gpt2/engine.js';
import type { Gpt2Events, Gpt2Protocol } from '../gpt2/protocol.js';
import { SemcacheError } from '../errors.js';
import { serveRpc, type RpcPort } from '../rpc.js';
import { loadCore } from '../wasm.js';

let engine: Gpt2Engine | undefined;

serveRpc<Gpt2Protocol, Gpt2Events>(self as unknown as RpcPort, {
  async load(source, format, cache) {
    const M = await loadCore();
    engine?.dispose();
    engine = undefined;
    engine = await Gpt2Engine.load(M, source, format ?? 'f32', (p) => this.emit(p), this.signal, cache);
    return engine.info();
  },
  async generate(prompt, options = {}) {
    if (!engine) throw new SemcacheError('NOT_LOADED', 'no model loaded in the GPT-2 worker');
    let stats: Gpt2Stats | undefined;
    for await (const token of engine.generate(prompt, { ...options, signal: this.signal }, (s) => (stats = s))) this.emit(token);
    return stats;
  },
});
