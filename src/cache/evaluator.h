#pragma once
// Similarity evaluation: given the ranked candidates of one scope, decide hit or miss.
// A small interface so stricter evaluators (features, learned models) slot in without touching
// the cache. Similarities are cosines in [-1, 1]; a Decision's score is in the evaluator's own
// units (a cosine for 'cosine'/'margin', a probability for 'learned').
#include <memory>
#include <span>
#include <string>

namespace semcache {

struct Signature;
class EvaluatorModel;

struct Candidate {
  uint32_t id;
  float similarity;  // cosine in [-1, 1], best first
};

struct Decision {
  bool hit = false;
  float score = 0.f;  // what the decision compared against its threshold
};

struct EvalInput {
  float threshold = 0.9f;             // the caller's cosine threshold ('cosine', 'margin')
  float offset = 0.f;                 // the top entry's feedback offset, in score units
  const Signature* query = nullptr;   // null when the lookup came without prompt text
  const Signature* top = nullptr;     // the top candidate's signature
  const float* queryVec = nullptr;    // unit vectors (dim floats), when the evaluator needsVectors()
  const float* topVec = nullptr;
  uint32_t dims = 0;                  // their length
};

class SimilarityEvaluator {
 public:
  virtual ~SimilarityEvaluator() = default;
  // ranked is non-empty and sorted best first.
  virtual Decision evaluate(std::span<const Candidate> ranked, const EvalInput& in) const = 0;
  // The score a hit needs before any per-entry offset, given the caller's cosine threshold.
  virtual float baseThreshold(float cosineThreshold) const { return cosineThreshold; }
  // Whether evaluate() reads queryVec/topVec (the cache then fetches the top candidate's vector).
  virtual bool needsVectors() const { return false; }
  // Whether evaluate() reads the prompts' signatures: the cache computes them (per put, per
  // lookup) only then.
  virtual bool needsSignatures() const { return false; }
  virtual std::string name() const = 0;
};

// Hit when the best cosine >= threshold + offset.
class CosineThreshold final : public SimilarityEvaluator {
 public:
  Decision evaluate(std::span<const Candidate> ranked, const EvalInput& in) const override;
  std::string name() const override { return "cosine"; }
};

// Hit when the best cosine >= threshold + offset AND it beats the runner-up by >= margin: a query
// that sits between two different cached questions is ambiguous, and a miss is cheaper than a
// wrong answer. (Two cached paraphrases of one question also fail the margin: the cost is a miss.)
class MarginThreshold final : public SimilarityEvaluator {
 public:
  explicit MarginThreshold(float margin);
  Decision evaluate(std::span<const Candidate> ranked, const EvalInput& in) const override;
  std::string name() const override { return "margin"; }
  float margin() const { return margin_; }

 private:
  float margin_;
};

// The trained model's probability that query and top candidate ask the same thing, from the
// cosine, the runner-up margin (1 when there is no runner-up) and the two prompts' signatures.
// Hit when it is >= the calibrated threshold for maxFalseHitRate, plus the entry's offset.
// The cosine threshold is not used. Needs the query's prompt text (INVALID_ARGUMENT otherwise).
class LearnedEvaluator final : public SimilarityEvaluator {
 public:
  LearnedEvaluator(std::shared_ptr<const EvaluatorModel> model, float maxFalseHitRate);
  Decision evaluate(std::span<const Candidate> ranked, const EvalInput& in) const override;
  float baseThreshold(float) const override { return threshold_; }
  bool needsVectors() const override;
  bool needsSignatures() const override { return true; }
  std::string name() const override { return "learned"; }

 private:
  std::shared_ptr<const EvaluatorModel> model_;
  float threshold_;  // probability
};

// "cosine", "margin" or "learned" (needs model); INVALID_ARGUMENT otherwise.
std::unique_ptr<SimilarityEvaluator> makeEvaluator(const std::string& kind, float margin,
                                                   std::shared_ptr<const EvaluatorModel> model = nullptr,
                                                   float maxFalseHitRate = 0.02f);

}  // namespace semcache
