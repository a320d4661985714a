#pragma once
// Token sampling: greedy, temperature, top-k, top-p (nucleus). The RNG is PCG32 on integers only,
// so a seed gives the same stream natively and in wasm; candidate order is (logit desc, id asc),
// so ties never depend on the sort implementation.
#include <cstdint>
#include <utility>
#include <vector>

namespace semcache::gpt2 {

struct SamplingOptions {
  float temperature = 1.0f;  // <= 0 means greedy
  int top_k = 0;             // 0 = no limit; 1 = greedy
  float top_p = 1.0f;        // keep the smallest prefix of the sorted distribution with mass >= top_p
};

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint32_t next_u32();
  float uniform();  // [0, 1) with 24 random bits
 private:
  uint64_t state_ = 0, inc_ = 0;
};

// Lowest id among the maximal logits.
int argmax(const float* logits, int V);

// Draws one token id from logits (V). `scratch` is reused across calls to avoid allocations.
int sample_token(const float* logits, int V, const SamplingOptions& opt, Rng& rng,
                 std::vector<std::pair<float, int>>& scratch);

}  // namespace semcache::gpt2
