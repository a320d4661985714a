// The GPT-2 part of the Embind module's types. They are declared in semcache_core.d.ts (where
// tests/js/bindings-dts.test.ts checks them against what bindings/gpt2_bindings.cpp binds);
// this file re-exports them for code that only deals with GPT-2.
export type {
  Gpt2WeightFormat,
  Gpt2Overflow,
  Gpt2ModelConfig,
  Gpt2SamplingOptions,
  Gpt2Tokenizer,
  Gpt2TokenizerConstructor,
  Gpt2Model,
  Gpt2ModelConstructor,
} from './semcache_core.js';
