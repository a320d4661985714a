// What Gpt2 (js/gpt2.ts) and its worker (js/workers/gpt2-worker.ts) say to each other over
// js/rpc.ts. Types only: both sides import this module, and importing it starts nothing.
import type { Gpt2WeightFormat } from '../wasm/gpt2.js';
import type { Gpt2GenerateOptions, Gpt2Info, Gpt2Stats, Gpt2TokenEvent } from './engine.js';
import type { Gpt2Progress, Gpt2Source } from './source.js';

export interface Gpt2Protocol {
  /** Downloads (or takes) the weights and builds the model; a new load replaces the model. */
  load(source: Gpt2Source, format: Gpt2WeightFormat, cache?: boolean): Gpt2Info;
  /** Generates until maxTokens, a stop or a cancel; the stats of a run that ended by itself. */
  generate(prompt: string, options: Omit<Gpt2GenerateOptions, 'signal'>): Gpt2Stats | undefined;
}

/** The events each verb's handler emits. */
export interface Gpt2Events {
  load: Gpt2Progress;
  generate: Gpt2TokenEvent;
}
