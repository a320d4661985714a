// Dedicated worker running GPT-2 off the page's main thread (started by Gpt2.load). Messages:
//   in:  {type:'load', id, source, format} | {type:'generate', id, prompt, options} | {type:'cancel', id}
//   out: {type:'progress', id, progress} | {type:'loaded', id, info} | {type:'token', id, token}
//        | {type:'done', id, stats} | {type:'error', id, code, message}
import { Gpt2Engine, type Gpt2GenerateOptions, type Gpt2Stats } from '../gpt2/engine.js';
import type { Gpt2Source } from '../gpt2/source.js';
import type { Gpt2WeightFormat } from '../wasm/gpt2.js';
import { loadCore } from '../wasm.js';

type Request =
  | { type: 'load'; id: number; source: Gpt2Source; format?: Gpt2WeightFormat }
  | { type: 'generate'; id: number; prompt: string; options?: Omit<Gpt2GenerateOptions, 'signal'> }
  | { type: 'cancel'; id: number };

const scope = self as unknown as {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent<Request>) => void) | null;
};

let engine: Gpt2Engine | undefined;
const running = new Map<number, AbortController>();

function fail(id: number, e: unknown) {
  const err = e as { code?: string; message?: string };
  scope.postMessage({ type: 'error', id, code: err?.code ?? 'INTERNAL', message: err?.message ?? String(e) });
}

async function load(id: number, source: Gpt2Source, format: Gpt2WeightFormat | undefined) {
  const ctl = new AbortController();
  running.set(id, ctl);
  try {
    const M = await loadCore();
    engine?.dispose();
    engine = undefined;
    engine = await Gpt2Engine.load(M, source, format ?? 'f32', (progress) => scope.postMessage({ type: 'progress', id, progress }), ctl.signal);
    scope.postMessage({ type: 'loaded', id, info: engine.info() });
  } catch (e) {
    fail(id, e);
  } finally {
    running.delete(id);
  }
}

async function generate(id: number, prompt: string, options: Omit<Gpt2GenerateOptions, 'signal'> = {}) {
  const ctl = new AbortController();
  running.set(id, ctl);
  try {
    if (!engine) throw { code: 'NOT_LOADED', message: 'no model loaded in the GPT-2 worker' };
    let stats: Gpt2Stats | undefined;
    for await (const token of engine.generate(prompt, { ...options, signal: ctl.signal }, (s) => (stats = s)))
      scope.postMessage({ type: 'token', id, token });
    scope.postMessage({ type: 'done', id, stats });
  } catch (e) {
    fail(id, e);
  } finally {
    running.delete(id);
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'load') void load(m.id, m.source, m.format);
  else if (m.type === 'generate') void generate(m.id, m.prompt, m.options);
  else if (m.type === 'cancel') running.get(m.id)?.abort();
};
