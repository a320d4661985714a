#pragma once
// GPT-2 inference on the CPU, llm.c style, with a KV cache.
//
// Loading: Hugging Face GPT-2 checkpoints (model.safetensors bytes + config.json text), tensors F32
// or F16, names with or without the "transformer." prefix, Conv1D weights stored (in, out), LM head
// tied to wte (or a separate lm_head.weight when tie_word_embeddings is false). Extra tensors
// (h.N.attn.bias / masked_bias buffers) are ignored. Any size: n_layer, n_head, n_embd, n_positions,
// vocab_size come from config.json and every tensor's shape is checked against them.
// Errors (semcache::Error codes):
//   CORRUPT_MODEL     truncated file, bad header JSON, missing tensor, wrong shape, non-finite weight,
//                     bad or missing config field
//   UNSUPPORTED_MODEL valid checkpoint we cannot run: dtype other than F32/F16, unknown activation
//   INVALID_ARGUMENT  token id out of range, empty prompt
//   CONTEXT_FULL      step() past n_positions under Overflow::Stop
//
// All weights live in one allocation, stored (out, in) in the chosen WeightFormat; layer norms,
// biases and wpe stay f32. The KV cache is k/v[layer][position][C] in f32.
//
// Paths: with the KV cache on, prefill(tokens) runs the prompt once and step(token) costs one new
// row per layer (attention reads the cached keys/values). With it off, every step recomputes the
// whole sequence from position 0 (the cache buffers then only hold that pass's keys/values). Both
// paths compute each row with the same kernels in the same order, so their logits are identical.
//
// Context overflow: n_positions is a hard limit (learned absolute position embeddings cannot be
// shifted). Overflow::Stop makes step()/prefill() throw CONTEXT_FULL once the sequence would exceed
// it (check context_full() first to stop cleanly). Overflow::Slide keeps the last n_positions/2
// tokens of the sequence and re-runs them as a prefill (one prompt's cost every n_positions/2 tokens).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "gpt2/kernels.h"

namespace semcache::gpt2 {

enum class Activation { GeluTanh, GeluErf };
enum class Overflow { Stop = 0, Slide = 1 };

struct Config {
  int vocab_size = 50257;
  int n_positions = 1024;
  int n_embd = 768;
  int n_layer = 12;
  int n_head = 12;
  float layer_norm_epsilon = 1e-5f;
  Activation activation = Activation::GeluTanh;
  bool tie_word_embeddings = true;
};

// Parses and validates config.json (CORRUPT_MODEL / UNSUPPORTED_MODEL on error).
Config parse_config(std::string_view config_json);

struct LayerWeights {
  const float *ln_1_w, *ln_1_b, *ln_2_w, *ln_2_b;
  const float *c_attn_b, *attn_proj_b, *c_fc_b, *mlp_proj_b;
  QMatrix c_attn;     // (3C, C)
  QMatrix attn_proj;  // (C, C)
  QMatrix c_fc;       // (4C, C)
  QMatrix mlp_proj;   // (C, 4C)
};

class Model {
 public:
  // Copies/converts the weights out of `bytes`; they need not outlive the call.
  static std::unique_ptr<Model> load(const uint8_t* safetensors, size_t size, std::string_view config_json,
                                     WeightFormat fmt);
  // GPT-2 initialisation (normal(0, 0.02), projections scaled by 1/sqrt(2*n_layer), LN = 1/0),
  // seeded: for benchmarks at shapes no checkpoint is available for.
  static std::unique_ptr<Model> random(const Config& cfg, uint64_t seed, WeightFormat fmt);

  const Config& config() const { return cfg_; }
  WeightFormat format() const { return fmt_; }
  size_t weight_bytes() const { return weight_bytes_; }

  void set_kv_cache(bool on);
  bool kv_cache() const { return use_kv_; }
  void set_overflow(Overflow o) { overflow_ = o; }
  Overflow overflow() const { return overflow_; }

  // Starts a new sequence; returns the logits (vocab_size) for the next token.
  const float* prefill(const int* tokens, int n);
  // Appends one token; returns the logits for the one after it.
  const float* step(int token);
  const float* logits() const { return logits_.data(); }
  const std::vector<int>& tokens() const { return tokens_; }
  bool context_full() const { return int(tokens_.size()) >= cfg_.n_positions; }

  // Runs T tokens at positions [pos, pos + T) against cached keys/values at [0, pos); stores
  // their keys/values; returns the last row's logits. The building block of both paths.
  const float* forward(const int* tokens, int T, int pos);

 private:
  Model() = default;
  void allocate(const Config& cfg, WeightFormat fmt);
  void ensure_activations(int T);
  void check_tokens(const int* tokens, int n) const;
  const float* rerun();

  Config cfg_;
  WeightFormat fmt_ = WeightFormat::F32;
  std::unique_ptr<uint8_t[]> weights_;  // the one weights allocation
  size_t weight_bytes_ = 0;
  const float *wpe_ = nullptr, *ln_f_w_ = nullptr, *ln_f_b_ = nullptr;
  QMatrix wte_, lm_head_;
  std::vector<LayerWeights> layers_;

  std::vector<float> k_cache_, v_cache_;  // (L, P, C) each
  std::vector<float> x_, ln_, qkv_, att_, tmp_, fc_, scores_, logits_;
  int act_T_ = 0;
  MatmulScratch mm_;

  bool use_kv_ = true;
  Overflow overflow_ = Overflow::Slide;
  std::vector<int> tokens_;
  int n_cached_ = 0;  // tokens_[0, n_cached_) have valid keys/values in the cache
};

}  // namespace semcache::gpt2
