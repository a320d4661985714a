#pragma once
// Similarity evaluation: given the ranked candidates of one scope, decide hit or miss.
// A small interface so stricter evaluators (features, learned models) slot in without touching
// the cache. Similarities are cosines in [-1, 1].
#include <memory>
#include <span>
#include <string>

namespace semcache {

struct Candidate {
  uint32_t id;
  float similarity;  // cosine in [-1, 1], best first
};

struct Decision {
  bool hit = false;
  float score = 0.f;  // what the decision compared against its threshold
};

class SimilarityEvaluator {
 public:
  virtual ~SimilarityEvaluator() = default;
  // ranked is non-empty and sorted best first; threshold is the caller's cosine threshold.
  virtual Decision evaluate(std::span<const Candidate> ranked, float threshold) const = 0;
  virtual std::string name() const = 0;
};

// Hit when the best cosine >= threshold.
class CosineThreshold final : public SimilarityEvaluator {
 public:
  Decision evaluate(std::span<const Candidate> ranked, float threshold) const override;
  std::string name() const override { return "cosine"; }
};

// Hit when the best cosine >= threshold AND it beats the runner-up by >= margin: a query that
// sits between two different cached questions is ambiguous, and a miss is cheaper than a wrong
// answer. (Two cached paraphrases of one question also fail the margin: the cost is a miss.)
class MarginThreshold final : public SimilarityEvaluator {
 public:
  explicit MarginThreshold(float margin);
  Decision evaluate(std::span<const Candidate> ranked, float threshold) const override;
  std::string name() const override { return "margin"; }
  float margin() const { return margin_; }

 private:
  float margin_;
};

// "cosine" or "margin" (margin used only by the latter); INVALID_ARGUMENT otherwise.
std::unique_ptr<SimilarityEvaluator> makeEvaluator(const std::string& kind, float margin);

}  // namespace semcache
