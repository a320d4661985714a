// GPT-2 generation on the wasm core, in whichever thread runs it: the dedicated worker
// (js/workers/gpt2-worker.ts) or, where there is no worker (Node), the caller's thread.
import type { Gpt2Model, Gpt2Tokenizer, Gpt2WeightFormat } from '../wasm/gpt2.js';
import type { SemcacheCoreModule } from '../wasm/semcache_core.mjs';
import { SemcacheError, abortError, core } from '../errors.js';
import { nextTurn } from '../platform.js';
import { forgetDownload } from '../resumable.js';
import { loadGpt2Files, type ByteSink, type Gpt2Files, type Gpt2Progress, type Gpt2Source } from './source.js';

export interface Gpt2GenerateOptions {
  /** Tokens to generate at most. Default 64. */
  maxTokens?: number;
  /** <= 0: greedy. Default 1. */
  temperature?: number;
  /** 0: no limit. Default 0. */
  topK?: number;
  /** Nucleus mass in (0, 1]. Default 1. */
  topP?: number;
  /** Sampling seed. Default 0. */
  seed?: number;
  /** Use the KV cache (default true); false recomputes the whole sequence for every token. */
  kvCache?: boolean;
  /** At n_positions: 'slide' keeps the last half of the tokens (default), 'stop' ends generation. */
  overflow?: 'stop' | 'slide';
  /** Stop when the model emits <|endoftext|> (id 50256). Default true. */
  stopAtEndOfText?: boolean;
  /** End the generation when its text contains one of these; the text from the stop on is not
   * emitted (text already emitted before the stop was complete stays emitted). Ending here rather
   * than by leaving the loop keeps `lastStats` for this generation. */
  stop?: string[];
  signal?: AbortSignal;
}

export interface Gpt2TokenEvent {
  /** Token id. */
  id: number;
  /** Text this token completes (empty while a multi-byte character is still incomplete). */
  text: string;
  /** 0-based index among the generated tokens. */
  index: number;
}

export interface Gpt2Stats {
  promptTokens: number;
  generatedTokens: number;
  /** Prompt processing time (the prefill), ms. */
  prefillMs: number;
  /** Generated tokens per second, from the first sampled token to the last. */
  tokensPerSecond: number;
  /** Which path produced the tokens. */
  kvCache: boolean;
  format: Gpt2WeightFormat;
  stopReason: 'maxTokens' | 'endOfText' | 'contextFull' | 'stopSequence';
}

export interface Gpt2Info {
  config: { vocabSize: number; nPositions: number; nEmbd: number; nLayer: number; nHead: number };
  format: Gpt2WeightFormat;
  weightBytes: number;
  /** The wasm memory of the thread (or worker) running the model, in bytes, when it was loaded: it
   * grew to hold the downloaded file next to the converted weights, and wasm memory never shrinks. */
  wasmHeapBytes: number;
}

export const END_OF_TEXT = 50256;

export class Gpt2Engine {
  private busy = false;

  private constructor(
    private readonly M: SemcacheCoreModule,
    private readonly model: Gpt2Model,
    private readonly tokenizer: Gpt2Tokenizer,
  ) {}

  /**
   * `weights`: model.safetensors (in the JS heap, or a view of wasm memory from allocWeights, which
   * avoids one copy); `config`: config.json text; tokenizer files as text. The weights are
   * converted into the model's own allocation and the bytes freed.
   */
  static create(
    M: SemcacheCoreModule,
    weights: Uint8Array,
    config: string,
    encoderJson: string,
    vocabBpe: string,
    format: Gpt2WeightFormat = 'f32',
  ): Gpt2Engine {
    // A view of wasm memory is detached by the next growth: take its place and size now.
    const size = weights.length;
    let ptr = weights.buffer === M.HEAPU8.buffer ? weights.byteOffset : 0;
    if (!ptr) {
      ptr = M._malloc(size);
      if (!ptr) throw new SemcacheError('OUT_OF_MEMORY', `cannot allocate ${size} bytes in wasm memory for the weights`);
      M.HEAPU8.set(weights, ptr);
    }
    let tokenizer: Gpt2Tokenizer | undefined;
    try {
      tokenizer = core(() => new M.Gpt2Tokenizer(encoderJson, vocabBpe));
      const model = core(() => M.Gpt2Model.load(ptr, size, config, format));
      return new Gpt2Engine(M, model, tokenizer);
    } catch (e) {
      tokenizer?.delete();
      throw e;
    } finally {
      M._free(ptr);
    }
  }

  info(): Gpt2Info {
    return { config: this.model.config(), format: this.model.format(), weightBytes: this.model.weightBytes(), wasmHeapBytes: this.M.HEAPU8.length };
  }

  encode(text: string): number[] {
    return Array.from(core(() => this.tokenizer.encode(text)));
  }

  decode(ids: ArrayLike<number>): string {
    return core(() => this.tokenizer.decode(ids));
  }

  /**
   * Streams generated tokens; `onDone` receives the statistics. Yields to the event loop between
   * tokens so that an abort (or a worker's cancel message) is seen.
   */
  async *generate(prompt: string, options: Gpt2GenerateOptions = {}, onDone?: (s: Gpt2Stats) => void): AsyncGenerator<Gpt2TokenEvent> {
    if (this.busy) throw new SemcacheError('BUSY', 'this GPT-2 model is already generating: one generation at a time');
    this.busy = true;
    try {
      yield* this.run(prompt, options, onDone);
    } finally {
      this.busy = false;
    }
  }

  private async *run(prompt: string, options: Gpt2GenerateOptions, onDone?: (s: Gpt2Stats) => void): AsyncGenerator<Gpt2TokenEvent> {
    const maxTokens = options.maxTokens ?? 64;
    if (!Number.isInteger(maxTokens) || maxTokens < 0)
      throw new SemcacheError('INVALID_ARGUMENT', `maxTokens must be a non-negative integer, got ${maxTokens}`);
    const kv = options.kvCache ?? true;
    const stops = options.stop ?? [];
    if (!Array.isArray(stops) || stops.some((x) => typeof x !== 'string' || x.length === 0))
      throw new SemcacheError('INVALID_ARGUMENT', 'stop must be an array of non-empty strings');
    const sampling = { temperature: options.temperature ?? 1, topK: options.topK ?? 0, topP: options.topP ?? 1 };
    const m = this.model;
    let ids = this.encode(prompt);
    if (ids.length === 0) ids = [END_OF_TEXT];  // an empty prompt starts from <|endoftext|>
    if (options.signal?.aborted) throw abortError(options.signal);

    core(() => {
      m.setKvCache(kv);
      m.setOverflow(options.overflow ?? 'slide');
      m.setSeed(options.seed ?? 0);
    });
    const t0 = performance.now();
    core(() => m.prefill(ids));
    const prefillMs = performance.now() - t0;

    const generated: number[] = [];
    let emitted = '';
    let stopReason: Gpt2Stats['stopReason'] = 'maxTokens';
    const t1 = performance.now();
    while (generated.length < maxTokens) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (m.contextFull() && m.overflow() === 'stop') {
        stopReason = 'contextFull';
        break;
      }
      const id = core(() => m.generateOne(sampling));
      generated.push(id);
      if (id === END_OF_TEXT && (options.stopAtEndOfText ?? true)) {
        stopReason = 'endOfText';
        break;
      }
      // hold back a trailing incomplete UTF-8 sequence (decoded as U+FFFD) until it completes
      const text = this.decode(generated);
      const at = firstStop(text, stops);
      if (at >= 0) {
        stopReason = 'stopSequence';
        if (at > emitted.length && text.startsWith(emitted)) yield { id, text: text.slice(emitted.length, at), index: generated.length - 1 };
        break;
      }
      let delta = '';
      if (!text.endsWith('\ufffd') && text.startsWith(emitted)) {
        delta = text.slice(emitted.length);
        emitted = text;
      }
      yield { id, text: delta, index: generated.length - 1 };
      await nextTurn();
    }
    const seconds = (performance.now() - t1) / 1000;
    onDone?.({
      promptTokens: ids.length,
      generatedTokens: generated.length,
      prefillMs,
      tokensPerSecond: seconds > 0 ? generated.length / seconds : 0,
      kvCache: kv,
      format: m.format(),
      stopReason,
    });
  }

  /**
   * Fetches (or takes) the files and builds the engine. A download of known size is written
   * straight into wasm memory, so the checkpoint is never held twice; it is freed in every case.
   */
  static async load(
    M: SemcacheCoreModule,
    source: Gpt2Source,
    format: Gpt2WeightFormat,
    onProgress?: (p: Gpt2Progress) => void,
    signal?: AbortSignal,
    cache?: boolean,
  ): Promise<Gpt2Engine> {
    let ptr = 0;
    const alloc = (size: number): ByteSink => {
      ptr = M._malloc(size);
      if (!ptr) throw new SemcacheError('OUT_OF_MEMORY', `cannot allocate ${size} bytes in wasm memory for the weights`);
      const at = ptr;
      return { set: (chunk, offset) => M.HEAPU8.set(chunk, at + offset), bytes: () => M.HEAPU8.subarray(at, at + size) };
    };
    let files: Gpt2Files;
    try {
      files = await loadGpt2Files(source, onProgress, signal, alloc, cache);
    } catch (e) {
      if (ptr) M._free(ptr);
      throw e;
    }
    try {
      return Gpt2Engine.create(M, files.weights, files.config, files.encoderJson, files.vocabBpe, format);
    } catch (e) {
      // stored weights the core cannot read (a file changed on a server without validators, a
      // damaged disk): forget them, so that the next load downloads them again
      const code = (e as SemcacheError).code;
      if (files.weightsUrl && (code === 'CORRUPT_MODEL' || code === 'UNSUPPORTED_MODEL')) await forgetDownload(files.weightsUrl);
      throw e;
    }
  }

  dispose(): void {
    this.model.delete();
    this.tokenizer.delete();
  }

  get module(): SemcacheCoreModule {
    return this.M;
  }
}

/** Where the first of the stop strings starts in text, or -1. */
export function firstStop(text: string, stops: string[]): number {
  let best = -1;
  for (const x of stops) {
    const i = text.indexOf(x);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
