#include "gpt2/sampling.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace semcache::gpt2 {

void Rng::reseed(uint64_t seed) {
  // PCG32 (O'Neill) with the reference seeding sequence
  state_ = 0;
  inc_ = (uint64_t(0xda3e39cb94b95bdbULL) << 1) | 1u;
  next_u32();
  state_ += seed;
  next_u32();
}

uint32_t Rng::next_u32() {
  uint64_t old = state_;
  state_ = old * 6364136223846793005ULL + inc_;
  uint32_t xorshifted = uint32_t(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = uint32_t(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

float Rng::uniform() { return float(next_u32() >> 8) * (1.0f / 16777216.0f); }

int argmax(const float* logits, int V) {
  int best = 0;
  for (int i = 1; i < V; i++)
    if (logits[i] > logits[best]) best = i;
  return best;
}

int sample_token(const float* logits, int V, const SamplingOptions& opt, Rng& rng,
                 std::vector<std::pair<float, int>>& cand) {
  if (!(opt.top_p > 0.0f) || opt.top_p > 1.0f)
    throw Error(codes::kInvalidArgument, "top_p must be in (0, 1], got " + std::to_string(opt.top_p));
  if (opt.top_k < 0) throw Error(codes::kInvalidArgument, "top_k must be >= 0, got " + std::to_string(opt.top_k));
  if (std::isnan(opt.temperature)) throw Error(codes::kInvalidArgument, "temperature is NaN");
  if (opt.temperature <= 0.0f || opt.top_k == 1) return argmax(logits, V);

  // candidates (logit / T, id); sorted only when top-k or top-p needs an order
  cand.resize(V);
  for (int i = 0; i < V; i++) cand[i] = {logits[i] / opt.temperature, i};
  auto before = [](const std::pair<float, int>& a, const std::pair<float, int>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t n = cand.size();
  if (opt.top_k > 0 && size_t(opt.top_k) < n) {
    std::partial_sort(cand.begin(), cand.begin() + opt.top_k, cand.end(), before);
    n = size_t(opt.top_k);
  } else if (opt.top_p < 1.0f) {
    std::sort(cand.begin(), cand.end(), before);
  }
  float mx = cand[0].first;
  for (size_t i = 1; i < n; i++) mx = std::max(mx, cand[i].first);
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    cand[i].first = float(std::exp(double(cand[i].first - mx)));
    total += cand[i].first;
  }
  if (opt.top_p < 1.0f) {
    // candidates are sorted here (top_k < V implies partial_sort above)
    double need = double(opt.top_p) * total, acc = 0.0;
    size_t keep = 0;
    while (keep < n) {
      acc += cand[keep].first;
      keep++;
      if (acc >= need) break;
    }
    n = keep;
    total = acc;
  }
  double u = double(rng.uniform()) * total, acc = 0.0;
  for (size_t i = 0; i < n; i++) {
    acc += cand[i].first;
    if (u < acc) return cand[i].second;
  }
  return cand[n - 1].second;
}

}  // namespace semcache::gpt2
