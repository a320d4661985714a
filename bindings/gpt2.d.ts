// Types of what bindings/gpt2_bindings.cpp binds into the semcache_core wasm module (joined into
// SemcacheCoreModule by semcache_core.d.ts; tests/js/bindings-dts.test.ts checks them).
// Every call may throw {name: 'SemcacheError', code, message}; codes used: CORRUPT_MODEL,
// UNSUPPORTED_MODEL, INVALID_ARGUMENT, CONTEXT_FULL, OUT_OF_MEMORY, INTERNAL.

export type Gpt2WeightFormat = 'f32' | 'f16' | 'int8';
export type Gpt2Overflow = 'stop' | 'slide';

export interface Gpt2ModelConfig {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
}

export interface Gpt2SamplingOptions {
  /** <= 0: greedy. Default 1. */
  temperature?: number;
  /** 0: no limit; 1: greedy. Default 0. */
  topK?: number;
  /** (0, 1]. Default 1. */
  topP?: number;
}

export interface Gpt2Tokenizer {
  /** GPT-2 byte-level BPE; equal to gpt-3-encoder's encode (returns a copy). */
  encode(text: string): Int32Array;
  /** Equal to gpt-3-encoder's decode (invalid UTF-8 -> U+FFFD, leading BOM dropped). */
  decode(ids: ArrayLike<number>): string;
  vocabSize(): number;
  delete(): void;
}

export interface Gpt2TokenizerConstructor {
  /** The contents of encoder.json and vocab.bpe. */
  new (encoderJson: string, vocabBpe: string): Gpt2Tokenizer;
}

export interface Gpt2Model {
  config(): Gpt2ModelConfig;
  format(): Gpt2WeightFormat;
  weightBytes(): number;
  setKvCache(on: boolean): void;
  kvCache(): boolean;
  setOverflow(overflow: Gpt2Overflow): void;
  overflow(): Gpt2Overflow;
  setSeed(seed: number): void;
  /** Starts a sequence. The returned logits view wasm memory: valid until the next call. */
  prefill(ids: ArrayLike<number>): Float32Array;
  /** Appends one token; returns the next logits (a view, as for prefill). */
  step(token: number): Float32Array;
  /** The current logits (a view). */
  logits(): Float32Array;
  /** Draws a token from the current logits without appending it. */
  sample(options?: Gpt2SamplingOptions): number;
  /** sample() then step(); returns the token. Throws CONTEXT_FULL under 'stop' when contextFull(). */
  generateOne(options?: Gpt2SamplingOptions): number;
  contextFull(): boolean;
  length(): number;
  /** The current sequence (a copy). */
  tokens(): Int32Array;
  delete(): void;
}

export interface Gpt2ModelConstructor {
  /**
   * `ptr`/`size`: model.safetensors bytes the caller copied into memory from `_malloc`
   * (`HEAPU8.set(bytes, ptr)`); the weights are converted into the model's own allocation, so the
   * caller `_free`s them right after.
   */
  load(ptr: number, size: number, configJson: string, format: Gpt2WeightFormat): Gpt2Model;
  /** GPT-2-style random initialisation (seeded), for benchmarks. Omitted sizes are GPT-2 124M's. */
  random(config: Partial<Gpt2ModelConfig>, seed: number, format: Gpt2WeightFormat): Gpt2Model;
}

export interface Gpt2Module {
  Gpt2Tokenizer: Gpt2TokenizerConstructor;
  Gpt2Model: Gpt2ModelConstructor;
  /** The first n outputs of the sampler's PCG32 for a seed (same natively and in wasm). */
  gpt2RngStream(seed: number, n: number): Uint32Array;
}
