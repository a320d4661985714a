#pragma once
// The learned evaluator's model file and features. One versioned file (magic "SMEV") holds
//  - an IDF table over content-word hashes (built from a corpus by tools/train-evaluator.mjs),
//  - optionally the weights of a tiny MLP (or logistic regression when hidden = 0) over the
//    pair features below, with the standardization it was trained with,
//  - optionally a linear projection P of the embeddings (int8, one scale per row), trained on
//    labelled pairs so that cos(P u, P v) separates duplicates better than cos(u, v): the
//    feature kProjCosine. A learned metric beside the encoder's, which stays untouched (the
//    index still ranks by plain cosine),
//  - optionally a diagonal metric over the two unit embeddings u (query), v (cached): the logit
//    gets sum_i a_i * (dim * u_i * v_i) + b_i * (sqrt(dim) * |u_i - v_i|) (a learned reweighting
//    of the cosine's terms, MeanCache-like but without touching the encoder),
//  - vetoes: features that force a miss whatever the rest says (probability 0), e.g. two prompts
//    with different numbers ("2016" / "2017"), an antonym clash ("good" / "bad"), another entity
//    of one kind ("Java" / "Python") or swapped arguments ("A to B" / "B to A"): QQP's noisy
//    labels teach a weak weight for those, and a wrong hit costs more than a miss,
//  - a calibration table: target false-hit rate -> probability threshold, measured on a held-out
//    part of the training data.
// An IDF-only file is what training computes features with; a cache needs the weights too.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cache/signature.h"

namespace semcache {

// Pair features, in order (kNumFeatures floats). Bump kFeatureSet when they change: a model
// trained on other features is rejected with UNSUPPORTED_VERSION.
enum Feature : uint32_t {
  kCosine,          // cosine of the pair
  kMargin,          // cosine lead over the runner-up candidate, capped at kMarginCap (the cap when
                    // there is none: a one-entry scope reads like a clear lead, not an outlier)
  kQueryOnly,       // IDF mass of query words missing from the cached prompt / query IDF mass
  kCachedOnly,      // the same the other way round
  kDiffMass,        // log1p(IDF mass of the symmetric difference)
  kMaxDiffIdf,      // largest IDF of a word in the symmetric difference / 10
  kWeightedJaccard, // shared IDF mass / union IDF mass
  kNumberDiff,      // log1p(numbers in the symmetric difference)
  kNumberClash,     // 1 when both have numbers and they differ
  kNegationDiff,    // |negations(q) - negations(c)|, capped at 2
  kPolarityClash,   // antonym pairs used with different sides
  kPolarityOnly,    // antonym pairs used by one side only
  kNameDiff,        // log1p(capitalised names the other prompt never mentions, both ways)
  kLengthRatio,     // min/max token count
  kQuestionDiff,    // question words (what, why, how…) used by one prompt only
  kSharedMass,      // log1p(IDF mass of the shared words)
  kProjCosine,      // cos(P u, P v) with the model's projection; the cosine when it has none
  kEntityClash,     // kinds of entity (cache/gazetteer.h) where each prompt names one the other does not
  kOrderClash,      // word pairs around "to", "than", "of"… that the two prompts put in opposite orders
  kNumFeatures
};
constexpr uint32_t kFeatureSet = 4;  // 4: the margin capped at kMarginCap (was clamped to [-1, 1])
// A lead of this much cosine over the runner-up reads as no competitor at all. In a populated
// scope of QQP train questions (26k), 90% of best matches lead by less than 0.083 (the
// duplicates' `b`: 0.107). Tried 0.05 / 0.1 / 0.2 (tools/train-evaluator.mjs --populated): 0.05
// ranked worse on the calib part, 0.2 let near misses of the dev probes through (docs/quality.md).
constexpr float kMarginCap = 0.1f;

struct Calibration {
  float falseHitRate;  // on held-out non-duplicates
  float threshold;     // probability threshold that reaches it
};

class EvaluatorModel {
 public:
  // CORRUPT_SNAPSHOT (bad magic/checksum/contents), UNSUPPORTED_VERSION (format or feature set).
  static std::shared_ptr<const EvaluatorModel> load(const uint8_t* data, size_t size);
  // IDF-only model from a corpus: idf = ln((N + 1) / (df + 1)) + 1; words seen in fewer than
  // minDf documents are left out and get the default (the idf of df = 1).
  static EvaluatorModel fromCorpus(std::span<const std::string_view> docs, uint32_t minDf);

  std::vector<uint8_t> serialize() const;
  bool hasWeights() const { return hasWeights_; }
  float idf(uint32_t wordHash) const;
  size_t vocabulary() const { return idfHash_.size(); }
  uint32_t hidden() const { return hidden_; }
  const std::string& info() const { return info_; }
  const std::vector<Calibration>& calibration() const { return calib_; }

  // features: kNumFeatures floats; q, c: the unit vectors (embDim() floats each, or null when
  // embDim() == 0). Needs hasWeights().
  float predict(const float* features, const float* q = nullptr, const float* c = nullptr) const;
  uint32_t embDim() const { return uint32_t(embA_.size()); }
  uint32_t projRows() const { return projRows_; }
  uint32_t projCols() const { return projCols_; }
  // Whether features()/predict() read the two embeddings.
  bool needsVectors() const { return !embA_.empty() || projRows_ > 0; }
  uint32_t vetoes() const { return vetoes_; }  // bit f: feature f > 0 forces probability 0
  // Probability threshold for a target false-hit rate, interpolated in the calibration table
  // (clamped at its ends).
  float thresholdFor(float falseHitRate) const;
  // qv, cv: the unit embeddings (projCols() floats each), needed when the model has a projection.
  void features(const Signature& q, const Signature& c, float cosine, float margin, float* out,
                const float* qv = nullptr, const float* cv = nullptr) const;
  // Installs P (rows x cols, row-major), stored as int8 with one scale per row; features then
  // use the stored (quantized) P, in training as at run time.
  void setProjection(uint32_t rows, uint32_t cols, std::span<const float> p);

  // Installs trained weights: mean/std (F each); hidden = 0: w1 is F weights, b1 one bias and
  // w2/b2 unused; else w1 is (hidden, F) row-major, b1 (hidden), w2 (hidden), b2.
  void setWeights(uint32_t hidden, std::vector<float> mean, std::vector<float> std, std::vector<float> w1,
                  std::vector<float> b1, std::vector<float> w2, float b2, std::vector<Calibration> calib,
                  std::string info, std::vector<float> embA = {}, std::vector<float> embB = {}, uint32_t vetoes = 0);

 private:
  void check() const;
  void installProjection(uint32_t rows, uint32_t cols, std::vector<int8_t> q, std::vector<float> scale);

  float defaultIdf_ = 1.f;
  std::vector<uint32_t> idfHash_;  // sorted
  std::vector<float> idf_;
  bool hasWeights_ = false;
  uint32_t hidden_ = 0;
  std::vector<float> mean_, std_, w1_, b1_, w2_;
  float b2_ = 0.f;
  std::vector<float> embA_, embB_;  // the diagonal metric; empty = none
  uint32_t projRows_ = 0, projCols_ = 0;
  std::vector<int8_t> projQ_;      // (rows, cols) int8: what the file holds, and what lookups read
  std::vector<float> projScale_;   // (rows)
  uint32_t vetoes_ = 0;
  std::vector<Calibration> calib_;
  std::string info_;  // what it was trained on (JSON from the trainer)
};

}  // namespace semcache
