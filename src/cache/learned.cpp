#include "cache/learned.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <tuple>
#include <unordered_map>

#include "common/error.h"
#include "common/frame.h"
#include "index/kernels.h"

namespace semcache {
namespace {

constexpr uint32_t kModelMagic = fourcc("SMEV");
constexpr uint32_t kModelVersion = 2;  // 2: the projection

void corrupt(const std::string& what) { throw Error(codes::kCorruptSnapshot, "evaluator model " + what); }

std::vector<float> readFloats(ByteReader& r, size_t n, const char* what) {
  if (n > r.remaining() / 4) corrupt(std::string("is truncated in ") + what);
  std::vector<float> v(n);
  std::memcpy(v.data(), r.take(n * 4, what), n * 4);
  for (float x : v)
    if (!std::isfinite(x)) corrupt(std::string("has a non-finite value in ") + what);
  return v;
}

void writeFloats(ByteWriter& w, const std::vector<float>& v) { w.raw(v.data(), v.size() * 4); }

// Walks two sorted hash lists: f(hash, inA, inB) for each hash of the union.
template <class F>
void mergeWalk(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b, F&& f) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) f(a[i++], true, false);
    else if (i == a.size() || b[j] < a[i]) f(b[j++], false, true);
    else f(a[i], true, true), ++i, ++j;
  }
}

// Names of a that b never mentions (as a name or a word): "PyTorch has…" vs "…in PyTorch" is no
// difference even though only one of them is capitalised mid-sentence.
size_t namesMissing(const Signature& a, const Signature& b) {
  size_t n = 0;
  for (uint32_t h : a.names)
    n += !std::binary_search(b.words.begin(), b.words.end(), h) && !std::binary_search(b.names.begin(), b.names.end(), h);
  return n;
}

size_t symDiff(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  size_t n = 0;
  mergeWalk(a, b, [&](uint32_t, bool x, bool y) { n += x != y; });
  return n;
}

}  // namespace

float EvaluatorModel::idf(uint32_t h) const {
  auto it = std::lower_bound(idfHash_.begin(), idfHash_.end(), h);
  return it != idfHash_.end() && *it == h ? idf_[it - idfHash_.begin()] : defaultIdf_;
}

EvaluatorModel EvaluatorModel::fromCorpus(std::span<const std::string_view> docs, uint32_t minDf) {
  std::unordered_map<uint32_t, uint32_t> df;
  std::vector<uint32_t> seen;
  for (std::string_view d : docs) {
    seen.clear();
    forEachContentWord(d, [&](uint32_t h) { seen.push_back(h); });
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (uint32_t h : seen) df[h]++;
  }
  double n = double(docs.size());
  EvaluatorModel m;
  m.defaultIdf_ = float(std::log((n + 1) / 2) + 1);
  std::vector<std::pair<uint32_t, uint32_t>> kept;
  for (auto [h, c] : df)
    if (c >= std::max<uint32_t>(minDf, 1)) kept.emplace_back(h, c);
  std::sort(kept.begin(), kept.end());
  for (auto [h, c] : kept) {
    m.idfHash_.push_back(h);
    m.idf_.push_back(float(std::log((n + 1) / (c + 1)) + 1));
  }
  return m;
}

void EvaluatorModel::setWeights(uint32_t hidden, std::vector<float> mean, std::vector<float> sd, std::vector<float> w1,
                                std::vector<float> b1, std::vector<float> w2, float b2, std::vector<Calibration> calib,
                                std::string info, std::vector<float> embA, std::vector<float> embB, uint32_t vetoes) {
  EvaluatorModel m = *this;
  m.hasWeights_ = true;
  m.hidden_ = hidden;
  m.mean_ = std::move(mean), m.std_ = std::move(sd), m.w1_ = std::move(w1), m.b1_ = std::move(b1);
  m.w2_ = std::move(w2), m.b2_ = b2, m.calib_ = std::move(calib), m.info_ = std::move(info);
  m.embA_ = std::move(embA), m.embB_ = std::move(embB), m.vetoes_ = vetoes;
  if (m.hidden_ == 0) m.w2_.clear(), m.b2_ = 0;
  try {
    m.check();
  } catch (const Error& e) {
    throw Error(codes::kInvalidArgument, e.what());
  }
  *this = std::move(m);
}

void EvaluatorModel::setProjection(uint32_t rows, uint32_t cols, std::span<const float> p) {
  if (rows > 4096 || cols > 65536 || (rows == 0) != (cols == 0) || p.size() != size_t(rows) * cols)
    throw Error(codes::kInvalidArgument, "projection must be rows x cols floats (rows <= 4096), got " + std::to_string(p.size()) +
                                             " for " + std::to_string(rows) + " x " + std::to_string(cols));
  std::vector<int8_t> q(p.size());
  std::vector<float> scale(rows);
  for (size_t i = 0; i < rows; ++i) {
    float mx = 0;
    for (size_t j = 0; j < cols; ++j) {
      float x = p[i * cols + j];
      if (!std::isfinite(x)) throw Error(codes::kInvalidArgument, "projection has a non-finite value");
      mx = std::max(mx, std::fabs(x));
    }
    scale[i] = mx > 0 ? mx / 127 : 1.f;
    for (size_t j = 0; j < cols; ++j) q[i * cols + j] = int8_t(std::lround(p[i * cols + j] / scale[i]));
  }
  installProjection(rows, cols, std::move(q), std::move(scale));
}

void EvaluatorModel::installProjection(uint32_t rows, uint32_t cols, std::vector<int8_t> q, std::vector<float> scale) {
  for (float s : scale)
    if (!(s > 0)) corrupt("has a non-positive projection scale");
  projRows_ = rows, projCols_ = cols;
  projQ_ = std::move(q), projScale_ = std::move(scale);
}

void EvaluatorModel::check() const {
  if (idfHash_.size() != idf_.size()) corrupt("has IDF arrays of different lengths");
  for (size_t i = 1; i < idfHash_.size(); ++i)
    if (idfHash_[i] <= idfHash_[i - 1]) corrupt("has an unsorted IDF table");
  for (float x : idf_)
    if (!(x > 0 && std::isfinite(x))) corrupt("has a non-positive IDF");
  if (!(defaultIdf_ > 0 && std::isfinite(defaultIdf_))) corrupt("has a non-positive default IDF");
  if (!hasWeights_) return;
  size_t F = kNumFeatures, H = hidden_;
  if (H > 256) corrupt("has more than 256 hidden units");
  size_t nw1 = H ? H * F : F, nb1 = H ? H : 1, nw2 = H;
  if (mean_.size() != F || std_.size() != F || w1_.size() != nw1 || b1_.size() != nb1 || w2_.size() != nw2)
    corrupt("weights have the wrong shapes for " + std::to_string(F) + " features and " + std::to_string(H) + " hidden units");
  auto finite = [](const std::vector<float>& v) { return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); }); };
  if (!finite(mean_) || !finite(std_) || !finite(w1_) || !finite(b1_) || !finite(w2_) || !std::isfinite(b2_))
    corrupt("has non-finite weights");
  for (float s : std_)
    if (!(s > 0)) corrupt("has a non-positive feature scale");
  if (embA_.size() != embB_.size() || embA_.size() > 65536) corrupt("has a malformed embedding metric");
  if (vetoes_ >> kNumFeatures) corrupt("vetoes an unknown feature");
  if (!finite(embA_) || !finite(embB_)) corrupt("has non-finite embedding weights");
  if (calib_.empty()) corrupt("has no calibration table");
  for (size_t i = 0; i < calib_.size(); ++i) {
    const Calibration& c = calib_[i];
    if (!(c.falseHitRate >= 0 && c.falseHitRate <= 1 && c.threshold >= 0 && c.threshold <= 1))
      corrupt("calibration entries must be rates and probabilities in [0, 1]");
    if (i && !(c.falseHitRate > calib_[i - 1].falseHitRate && c.threshold <= calib_[i - 1].threshold))
      corrupt("calibration table must rise in false-hit rate and fall in threshold");
  }
}

std::vector<uint8_t> EvaluatorModel::serialize() const {
  ByteWriter w;
  beginFrame(w, kModelMagic, kModelVersion);
  w.pod(kFeatureSet);
  w.pod(uint32_t(kNumFeatures));
  w.pod(defaultIdf_);
  w.pod(uint32_t(idfHash_.size()));
  w.raw(idfHash_.data(), idfHash_.size() * 4);
  writeFloats(w, idf_);
  w.pod(projRows_), w.pod(projCols_);
  writeFloats(w, projScale_);
  w.raw(projQ_.data(), projQ_.size());
  w.pod(uint8_t(hasWeights_));
  if (hasWeights_) {
    w.pod(hidden_);
    writeFloats(w, mean_), writeFloats(w, std_), writeFloats(w, w1_), writeFloats(w, b1_), writeFloats(w, w2_);
    w.pod(b2_);
    w.pod(vetoes_);
    w.pod(uint32_t(embA_.size()));
    writeFloats(w, embA_), writeFloats(w, embB_);
    w.pod(uint32_t(calib_.size()));
    for (const Calibration& c : calib_) w.pod(c.falseHitRate), w.pod(c.threshold);
    w.str(info_);
  }
  endFrame(w);
  return std::move(w.bytes());
}

std::shared_ptr<const EvaluatorModel> EvaluatorModel::load(const uint8_t* data, size_t size) {
  ByteReader r = openFrame(data, size, kModelMagic, kModelVersion, "evaluator model");
  uint32_t set = r.pod<uint32_t>("feature set"), nf = r.pod<uint32_t>("feature count");
  if (set != kFeatureSet || nf != kNumFeatures)
    throw Error(codes::kUnsupportedVersion, "evaluator model was trained on feature set " + std::to_string(set) + " (" +
                                                std::to_string(nf) + " features), this build computes set " +
                                                std::to_string(kFeatureSet) + " (" + std::to_string(kNumFeatures) + ")");
  auto m = std::make_shared<EvaluatorModel>();
  m->defaultIdf_ = r.pod<float>("default idf");
  uint32_t nv = r.pod<uint32_t>("vocabulary size");
  if (nv > r.remaining() / 8) corrupt("vocabulary size is impossible");
  m->idfHash_.resize(nv);
  std::memcpy(m->idfHash_.data(), r.take(size_t(nv) * 4, "idf hashes"), size_t(nv) * 4);
  m->idf_ = readFloats(r, nv, "idf values");
  uint32_t pr = r.pod<uint32_t>("projection rows"), pc = r.pod<uint32_t>("projection columns");
  if (pr > 4096 || pc > 65536 || (pr == 0) != (pc == 0)) corrupt("projection shape is impossible");
  if (size_t(pr) * pc > r.remaining()) corrupt("is truncated in the projection");
  std::vector<float> scale = readFloats(r, pr, "projection scales");
  std::vector<int8_t> q(size_t(pr) * pc);
  std::memcpy(q.data(), r.take(q.size(), "projection"), q.size());
  m->installProjection(pr, pc, std::move(q), std::move(scale));
  m->hasWeights_ = r.pod<uint8_t>("weights flag") != 0;
  if (m->hasWeights_) {
    uint32_t H = m->hidden_ = r.pod<uint32_t>("hidden units");
    if (H > 256) corrupt("has more than 256 hidden units");
    size_t F = kNumFeatures;
    m->mean_ = readFloats(r, F, "feature means");
    m->std_ = readFloats(r, F, "feature scales");
    m->w1_ = readFloats(r, H ? H * F : F, "first layer");
    m->b1_ = readFloats(r, H ? H : 1, "first biases");
    m->w2_ = readFloats(r, H, "second layer");
    m->b2_ = r.pod<float>("second bias");
    m->vetoes_ = r.pod<uint32_t>("vetoes");
    uint32_t ed = r.pod<uint32_t>("embedding dims");
    if (ed > 65536) corrupt("embedding dims are impossible");
    m->embA_ = readFloats(r, ed, "embedding metric");
    m->embB_ = readFloats(r, ed, "embedding metric");
    uint32_t nc = r.pod<uint32_t>("calibration size");
    if (nc > r.remaining() / 8) corrupt("calibration size is impossible");
    for (uint32_t i = 0; i < nc; ++i) {
      Calibration c;
      c.falseHitRate = r.pod<float>("calibration");
      c.threshold = r.pod<float>("calibration");
      m->calib_.push_back(c);
    }
    m->info_ = r.str("info");
  }
  if (r.remaining() != 0) corrupt("has trailing bytes");
  m->check();
  return m;
}

float EvaluatorModel::predict(const float* f, const float* q, const float* c) const {
  if (!hasWeights_) throw Error(codes::kInvalidArgument, "this evaluator model holds only an IDF table (no weights)");
  constexpr size_t F = kNumFeatures;
  for (size_t i = 0; i < F; ++i)
    if ((vetoes_ >> i & 1) && f[i] > 0) return 0.f;
  float x[F];
  for (size_t i = 0; i < F; ++i) x[i] = (f[i] - mean_[i]) / std_[i];
  float z;
  if (hidden_ == 0) {
    z = b1_[0];
    for (size_t i = 0; i < F; ++i) z += w1_[i] * x[i];
  } else {
    z = b2_;
    for (size_t h = 0; h < hidden_; ++h) {  // w1 is (H, F)
      float a = b1_[h];
      const float* w = &w1_[h * F];
      for (size_t i = 0; i < F; ++i) a += w[i] * x[i];
      z += w2_[h] * std::tanh(a);
    }
  }
  if (size_t d = embA_.size()) {
    if (!q || !c) throw Error(codes::kInvalidArgument, "this evaluator model needs the two embeddings");
    float sd = std::sqrt(float(d)), fd = float(d), acc = 0;
    for (size_t i = 0; i < d; ++i) acc += embA_[i] * fd * q[i] * c[i] + embB_[i] * sd * std::fabs(q[i] - c[i]);
    z += acc;
  }
  return 1.f / (1.f + std::exp(-z));
}

float EvaluatorModel::thresholdFor(float rate) const {
  if (!hasWeights_) throw Error(codes::kInvalidArgument, "this evaluator model has no calibration table");
  if (!(rate >= 0 && rate <= 1)) throw Error(codes::kInvalidArgument, "maxFalseHitRate must be in [0, 1], got " + std::to_string(rate));
  if (rate <= calib_.front().falseHitRate) return calib_.front().threshold;
  for (size_t i = 1; i < calib_.size(); ++i) {
    const Calibration &a = calib_[i - 1], &b = calib_[i];
    if (rate <= b.falseHitRate) {
      float t = (rate - a.falseHitRate) / (b.falseHitRate - a.falseHitRate);
      return a.threshold + t * (b.threshold - a.threshold);
    }
  }
  return calib_.back().threshold;
}

namespace {
// v as int16 codes (the index's query encoding, Int8Space::encodeQuery): |code| <= qmax keeps a
// dot with cols int8 values inside int32. One scale for all of v, so it cancels in a cosine.
void toInt16(const float* v, uint32_t cols, int16_t* out) {
  float maxAbs = 0.f;
  for (uint32_t j = 0; j < cols; ++j) maxAbs = std::max(maxAbs, std::fabs(v[j]));
  const float qmax = float(std::min<size_t>(16383, 2147483647 / (127 * size_t(cols))));
  float inv = maxAbs > 0.f ? qmax / maxAbs : 0.f;
  for (uint32_t j = 0; j < cols; ++j) out[j] = int16_t(std::lrintf(v[j] * inv));
}

// cos(P a, P b); P is (rows, cols) int8 codes with a scale per row, a and b (cols). The codes are
// read as they are (a quarter of the bytes of floats, integer SIMD dots): the projection is the
// largest thing a lookup reads (256 KiB at 512 x 512), and from memory when the page was idle.
// The 14-bit codes of a and b move the result by ~1e-5.
float projectedCosine(const std::vector<int8_t>& P, const std::vector<float>& scale, uint32_t rows, uint32_t cols,
                      const float* a, const float* b) {
  std::vector<int16_t> qa(cols), qb(cols);
  toInt16(a, cols, qa.data());
  toInt16(b, cols, qb.data());
  double ab = 0, aa = 0, bb = 0;
  // four rows at a time, each read and widened once for a and b (kernels::dot2_i16_i8_x4; the
  // integer sums are exact, so the result is the row-by-row one)
  int32_t xy[8];
  uint32_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    const int8_t* r4[4] = {&P[size_t(i) * cols], &P[size_t(i + 1) * cols], &P[size_t(i + 2) * cols], &P[size_t(i + 3) * cols]};
    kernels::dot2_i16_i8_x4(qa.data(), qb.data(), r4, cols, xy);
    for (uint32_t k = 0; k < 4; ++k) {
      double x = double(scale[i + k]) * xy[k], y = double(scale[i + k]) * xy[4 + k];
      ab += x * y, aa += x * x, bb += y * y;
    }
  }
  for (; i < rows; ++i) {
    const int8_t* row = &P[size_t(i) * cols];
    double x = double(scale[i]) * kernels::dot_i16_i8(qa.data(), row, cols);
    double y = double(scale[i]) * kernels::dot_i16_i8(qb.data(), row, cols);
    ab += x * y, aa += x * x, bb += y * y;
  }
  return aa > 0 && bb > 0 ? float(ab / std::sqrt(aa * bb)) : 0.f;
}
}  // namespace

void EvaluatorModel::features(const Signature& q, const Signature& c, float cosine, float margin, float* out,
                              const float* qv, const float* cv) const {
  if (projRows_) {
    if (!qv || !cv) throw Error(codes::kInvalidArgument, "this evaluator model needs the two embeddings");
    out[kProjCosine] = projectedCosine(projQ_, projScale_, projRows_, projCols_, qv, cv);
  } else {
    out[kProjCosine] = cosine;
  }
  double qMass = 0, cMass = 0, qOnly = 0, cOnly = 0, shared = 0, maxDiff = 0;
  mergeWalk(q.words, c.words, [&](uint32_t h, bool inQ, bool inC) {
    double w = idf(h);
    if (inQ) qMass += w;
    if (inC) cMass += w;
    if (inQ && inC) shared += w;
    else (inQ ? qOnly : cOnly) += w, maxDiff = std::max(maxDiff, w);
  });
  // marks (cache/signature.h) grouped: (kind, group) -> the members each prompt uses
  size_t polarityClash = 0, polarityOnly = 0, entityClash = 0, orderClash = 0;
  {
    struct Use {
      MarkKind kind;
      uint32_t group, member;
      bool query;
      bool operator<(const Use& o) const {
        return std::tie(kind, group, member, query) < std::tie(o.kind, o.group, o.member, o.query);
      }
    };
    std::vector<Use> uses;
    for (uint32_t m : q.marks) uses.push_back({markKind(m), markGroup(m), markMember(m), true});
    for (uint32_t m : c.marks) uses.push_back({markKind(m), markGroup(m), markMember(m), false});
    std::sort(uses.begin(), uses.end());
    for (size_t i = 0; i < uses.size();) {
      size_t j = i;
      // members used by the query only, by the cached prompt only, by both
      size_t qOnlyM = 0, cOnlyM = 0, both = 0;
      while (j < uses.size() && uses[j].kind == uses[i].kind && uses[j].group == uses[i].group) {
        size_t k = j;
        bool inQ = false, inC = false;
        for (; k < uses.size() && uses[k].kind == uses[j].kind && uses[k].group == uses[j].group && uses[k].member == uses[j].member; ++k)
          (uses[k].query ? inQ : inC) = true;
        (inQ && inC ? both : inQ ? qOnlyM : cOnlyM)++;
        j = k;
      }
      bool usedByQ = qOnlyM + both > 0, usedByC = cOnlyM + both > 0;
      switch (uses[i].kind) {
        case MarkKind::kAntonym:  // a side the other prompt does not use
          if (usedByQ && usedByC && (qOnlyM || cOnlyM)) polarityClash++;
          else if (!usedByQ || !usedByC) polarityOnly++;
          break;
        default:  // each names one the other does not: a substitution, not an addition
          if (qOnlyM && cOnlyM) (uses[i].kind == MarkKind::kEntity ? entityClash : orderClash)++;
      }
      i = j;
    }
  }
  size_t numDiff = symDiff(q.numbers, c.numbers);
  out[kCosine] = cosine;
  out[kMargin] = std::clamp(margin, 0.f, kMarginCap);
  out[kQueryOnly] = qMass > 0 ? float(qOnly / qMass) : 0.f;
  out[kCachedOnly] = cMass > 0 ? float(cOnly / cMass) : 0.f;
  out[kDiffMass] = float(std::log1p(qOnly + cOnly));
  out[kMaxDiffIdf] = float(maxDiff / 10);
  out[kWeightedJaccard] = qMass + cMass - shared > 0 ? float(shared / (qMass + cMass - shared)) : 1.f;
  out[kNumberDiff] = float(std::log1p(double(numDiff)));
  out[kNumberClash] = !q.numbers.empty() && !c.numbers.empty() && numDiff > 0 ? 1.f : 0.f;
  out[kNegationDiff] = float(std::min(2, std::abs(int(q.negations) - int(c.negations))));
  out[kPolarityClash] = float(polarityClash);
  out[kPolarityOnly] = float(polarityOnly);
  out[kEntityClash] = float(entityClash);
  out[kOrderClash] = float(orderClash);
  out[kNameDiff] = float(std::log1p(double(namesMissing(q, c) + namesMissing(c, q))));
  float lq = std::max<float>(1, q.tokens), lc = std::max<float>(1, c.tokens);
  out[kLengthRatio] = std::min(lq, lc) / std::max(lq, lc);
  out[kQuestionDiff] = float(std::popcount(unsigned(q.question ^ c.question)));
  out[kSharedMass] = float(std::log1p(shared));
}

}  // namespace semcache
