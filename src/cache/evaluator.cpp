#include "cache/evaluator.h"

#include <cmath>

#include "cache/learned.h"
#include "cache/signature.h"
#include "common/error.h"

namespace semcache {

Decision CosineThreshold::evaluate(std::span<const Candidate> ranked, const EvalInput& in) const {
  float s = ranked.front().similarity;
  return {s >= in.threshold + in.offset, s};
}

MarginThreshold::MarginThreshold(float margin) : margin_(margin) {
  if (!(margin >= 0.f && margin <= 2.f))
    throw Error(codes::kInvalidArgument, "margin must be a cosine difference in [0, 2], got " + std::to_string(margin));
}

Decision MarginThreshold::evaluate(std::span<const Candidate> ranked, const EvalInput& in) const {
  float s = ranked.front().similarity;
  float gap = ranked.size() > 1 ? s - ranked[1].similarity : 2.f;
  return {s >= in.threshold + in.offset && gap >= margin_, s};
}

LearnedEvaluator::LearnedEvaluator(std::shared_ptr<const EvaluatorModel> model, float maxFalseHitRate)
    : model_(std::move(model)) {
  if (!model_ || !model_->hasWeights())
    throw Error(codes::kInvalidArgument, "the 'learned' evaluator needs a trained evaluator model: load one first");
  threshold_ = model_->thresholdFor(maxFalseHitRate);
}

Decision LearnedEvaluator::evaluate(std::span<const Candidate> ranked, const EvalInput& in) const {
  if (!in.query || !in.top)
    throw Error(codes::kInvalidArgument, "the 'learned' evaluator needs the prompt text of the lookup");
  float s = ranked.front().similarity;
  float margin = ranked.size() > 1 ? s - ranked[1].similarity : 1.f;
  uint32_t want = model_->projRows() ? model_->projCols() : model_->embDim();
  if (want && in.dims != want)
    throw Error(codes::kInvalidArgument, "the evaluator model was trained on " + std::to_string(want) +
                                             "-d embeddings, this cache holds " + std::to_string(in.dims) + "-d");
  float f[kNumFeatures];
  model_->features(*in.query, *in.top, s, margin, f, in.queryVec, in.topVec);
  float p = model_->predict(f, in.queryVec, in.topVec);
  return {p >= threshold_ + in.offset, p};
}

bool LearnedEvaluator::needsVectors() const { return model_->needsVectors(); }

std::unique_ptr<SimilarityEvaluator> makeEvaluator(const std::string& kind, float margin,
                                                   std::shared_ptr<const EvaluatorModel> model, float maxFalseHitRate) {
  if (kind == "cosine") return std::make_unique<CosineThreshold>();
  if (kind == "margin") return std::make_unique<MarginThreshold>(margin);
  if (kind == "learned") return std::make_unique<LearnedEvaluator>(std::move(model), maxFalseHitRate);
  throw Error(codes::kInvalidArgument, "unknown evaluator '" + kind + "' (expected 'cosine', 'margin' or 'learned')");
}

}  // namespace semcache
