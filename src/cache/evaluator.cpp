#include "cache/evaluator.h"

#include <cmath>

#include "common/error.h"

namespace semcache {

Decision CosineThreshold::evaluate(std::span<const Candidate> ranked, float threshold) const {
  float s = ranked.front().similarity;
  return {s >= threshold, s};
}

MarginThreshold::MarginThreshold(float margin) : margin_(margin) {
  if (!(margin >= 0.f && margin <= 2.f))
    throw Error(codes::kInvalidArgument, "margin must be a cosine difference in [0, 2], got " + std::to_string(margin));
}

Decision MarginThreshold::evaluate(std::span<const Candidate> ranked, float threshold) const {
  float s = ranked.front().similarity;
  float gap = ranked.size() > 1 ? s - ranked[1].similarity : 2.f;
  return {s >= threshold && gap >= margin_, s};
}

std::unique_ptr<SimilarityEvaluator> makeEvaluator(const std::string& kind, float margin) {
  if (kind == "cosine") return std::make_unique<CosineThreshold>();
  if (kind == "margin") return std::make_unique<MarginThreshold>(margin);
  throw Error(codes::kInvalidArgument, "unknown evaluator '" + kind + "' (expected 'cosine' or 'margin')");
}

}  // namespace semcache
