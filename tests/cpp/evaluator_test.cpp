#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "cache/cache.h"
#include "cache/learned.h"
#include "cache/signature.h"
#include "common/error.h"
#include "test_util.h"
#include "test_vectors.h"

using namespace semcache;
using semcache::testing::codeOf;
using semcache::testing::randomUnit;

namespace {

constexpr size_t kDim = 16;

EvaluatorModel corpusModel() {
  std::vector<std::string_view> docs = {"How do I learn Python?", "How do I learn Java?", "Is Python hard to learn?",
                                        "best laptop in 2016", "What is 5 kg in pounds?", "How do I learn to cook?"};
  return EvaluatorModel::fromCorpus(docs, 1);
}

// A hand-set logistic regression: cosine helps, every lexical difference hurts. Enough to test
// the machinery without depending on a trained file.
EvaluatorModel handModel() {
  EvaluatorModel m = corpusModel();
  std::vector<float> w(kNumFeatures, 0.f);
  w[kCosine] = 20;
  w[kDiffMass] = -3;
  w[kNumberClash] = -6;
  w[kPolarityClash] = -6;
  w[kNegationDiff] = -6;
  std::vector<float> mean(kNumFeatures, 0.f), sd(kNumFeatures, 1.f);
  m.setWeights(0, mean, sd, w, {-17.f}, {}, 0, {{0.01f, 0.9f}, {0.05f, 0.5f}, {0.2f, 0.2f}}, "{\"test\":true}");
  return m;
}

std::shared_ptr<const EvaluatorModel> roundTrip(const EvaluatorModel& m) {
  auto bytes = m.serialize();
  return EvaluatorModel::load(bytes.data(), bytes.size());
}

float prob(const EvaluatorModel& m, std::string_view q, std::string_view c, float cosine) {
  float f[kNumFeatures];
  m.features(makeSignature(q), makeSignature(c), cosine, 1.f, f);
  return m.predict(f);
}

}  // namespace

TEST(SignatureTest, NumbersUnitsNegationsPolarityNames) {
  Signature a = makeSignature("What is 5 kg in pounds?"), b = makeSignature("What is 5kg in pounds?");
  EXPECT_EQ(a.numbers, b.numbers) << "'5 kg' and '5kg' are one number token";
  EXPECT_EQ(a.words, b.words);
  EXPECT_NE(a.numbers, makeSignature("What is 50 kg in pounds?").numbers);
  EXPECT_EQ(makeSignature("I have five cats").numbers, makeSignature("I have 5 cats").numbers);
  EXPECT_EQ(makeSignature("best laptop in 2016").words, makeSignature("best laptop in 2017").words);
  EXPECT_NE(makeSignature("best laptop in 2016").numbers, makeSignature("best laptop in 2017").numbers);
  EXPECT_EQ(makeSignature("Why don't cats swim?").negations, 1);
  EXPECT_EQ(makeSignature("Why do cats never not swim?").negations, 2);
  EXPECT_EQ(makeSignature("Why do cats swim?").negations, 0);
  Signature good = makeSignature("is this good for you"), bad = makeSignature("is this bad for you");
  ASSERT_EQ(good.marks.size(), 1u);
  ASSERT_EQ(bad.marks.size(), 1u);
  EXPECT_EQ(good.marks[0] / 2, bad.marks[0] / 2) << "one antonym pair";
  EXPECT_NE(good.marks[0], bad.marks[0]) << "opposite sides";
  EXPECT_EQ(makeSignature("How do I learn Python?").names.size(), 1u);
  EXPECT_TRUE(makeSignature("How do I learn python?").names.empty()) << "lowercase is not a name; 'How' starts the sentence";
  EXPECT_EQ(makeSignature("How do I learn Python?").words, makeSignature("how can i learn python").words)
      << "case, punctuation and stopwords do not change content words";
  EXPECT_EQ(makeSignature("learning").words, makeSignature("learn").words) << "light stemming";
}

TEST(SignatureTest, LongPromptsKeepABottomKSketch) {
  std::string text;
  for (int i = 0; i < 500; ++i) {  // 500 distinct letter-only words
    std::string w = "w";
    for (int k = i; k; k /= 26) w += char('a' + k % 26);
    text += w + "zq ";
  }
  Signature s = makeSignature(text);
  EXPECT_EQ(s.words.size(), kMaxSigWords);
  EXPECT_TRUE(std::is_sorted(s.words.begin(), s.words.end()));
  EXPECT_EQ(s.tokens, 500);
  ByteWriter w;
  writeSignature(w, s);
  EXPECT_EQ(w.size(), signatureBytes(s));
  ByteReader r(w.bytes().data(), w.size());
  Signature t = readSignature(r);
  EXPECT_EQ(t.words, s.words);
  EXPECT_EQ(t.tokens, s.tokens);
}

TEST(EvaluatorModelTest, IdfRanksRareWordsHigher) {
  EvaluatorModel m = corpusModel();
  auto h = [](const char* w) { return makeSignature(w).words.at(0); };
  EXPECT_GT(m.idf(h("java")), m.idf(h("learn"))) << "'learn' is in 4 of 6 documents, 'java' in 1";
  EXPECT_FLOAT_EQ(m.idf(h("zebra")), m.idf(h("java"))) << "unknown words get the df = 1 idf";
}

TEST(EvaluatorModelTest, FeaturesSeeTheHardNegatives) {
  EvaluatorModel m = corpusModel();
  float f[kNumFeatures];
  m.features(makeSignature("How do I learn Python?"), makeSignature("How can I learn Python?"), 0.97f, 1.f, f);
  EXPECT_FLOAT_EQ(f[kCosine], 0.97f);
  EXPECT_FLOAT_EQ(f[kMargin], kMarginCap) << "no runner-up (margin 1) reads as the capped lead";
  EXPECT_FLOAT_EQ(f[kDiffMass], 0.f);
  EXPECT_FLOAT_EQ(f[kWeightedJaccard], 1.f);
  EXPECT_FLOAT_EQ(f[kNameDiff], 0.f);
  m.features(makeSignature("How do I learn Python?"), makeSignature("How do I learn Java?"), 0.97f, 1.f, f);
  EXPECT_GT(f[kDiffMass], 1.f);
  EXPECT_GT(f[kNameDiff], 0.f);
  EXPECT_LT(f[kWeightedJaccard], 0.5f);
  m.features(makeSignature("best laptop in 2016"), makeSignature("best laptop in 2017"), 0.99f, 1.f, f);
  EXPECT_EQ(f[kNumberClash], 1.f);
  EXPECT_FLOAT_EQ(f[kDiffMass], 0.f);
  m.features(makeSignature("is coffee good for you"), makeSignature("is coffee bad for you"), 0.95f, 1.f, f);
  EXPECT_EQ(f[kPolarityClash], 1.f);
  m.features(makeSignature("Why do cats purr?"), makeSignature("Why don't cats purr?"), 0.95f, 1.f, f);
  EXPECT_EQ(f[kNegationDiff], 1.f);
}

TEST(EvaluatorModelTest, EntitiesOfOneKindAndSwappedArgumentsClash) {
  EvaluatorModel m = corpusModel();
  float f[kNumFeatures];
  auto clash = [&](const char* q, const char* c, Feature k) {
    m.features(makeSignature(q), makeSignature(c), 0.95f, 1.f, f);
    return f[k];
  };
  EXPECT_EQ(clash("how do i learn java", "how do i learn python", kEntityClash), 1.f) << "lower case: no name feature";
  EXPECT_EQ(clash("How many weeks are in a year?", "How many days are in a year?", kEntityClash), 1.f);
  EXPECT_EQ(clash("Is French food good?", "Is food in France good?", kEntityClash), 0.f) << "adjective and country: one entity";
  EXPECT_EQ(clash("Best places to visit in India", "Best places to visit in India and Nepal", kEntityClash), 0.f)
      << "an addition is not a substitution";
  EXPECT_EQ(clash("Can you help us?", "Can you help the USA?", kEntityClash), 0.f) << "'us' is the pronoun";
  EXPECT_EQ(clash("Is it hot in New York?", "Is it hot in York?", kEntityClash), 0.f) << "'York' alone names nothing listed";
  EXPECT_EQ(clash("Convert 100 Fahrenheit to Celsius", "Convert 100 Celsius to Fahrenheit", kOrderClash), 1.f);
  EXPECT_GT(clash("transfer money from PayPal to my bank account", "transfer money from my bank account to PayPal", kOrderClash), 0.f);
  EXPECT_EQ(clash("Is Spanish harder to learn than French?", "Is French harder to learn than Spanish?", kOrderClash), 1.f);
  EXPECT_EQ(clash("Is Spanish harder to learn than French?", "Is Spanish more difficult to learn than French?", kOrderClash), 0.f);
  EXPECT_EQ(clash("What's the euro to dollar exchange rate?", "What is the exchange rate from euros to dollars?", kOrderClash), 0.f)
      << "pairs are kept per directional word";
  EXPECT_EQ(clash("What is the difference between cats and dogs?", "What is the difference between dogs and cats?", kOrderClash), 0.f);
  EXPECT_EQ(clash("What is 15% of 80?", "What is 15 percent of 80?", kNumberClash), 0.f) << "'%' reads as 'percent'";
  EXPECT_EQ(clash("When did World War II end?", "When did World War III end?", kNumberClash), 1.f) << "Roman numerals";
  EXPECT_EQ(clash("Which city is the capital?", "What city is the capital?", kQuestionDiff), 0.f) << "'which' asks 'what'";
  // the marks survive a snapshot round trip
  Signature s = makeSignature("Is Spanish harder to learn than French in New York?");
  ByteWriter w;
  writeSignature(w, s);
  ByteReader r(w.bytes().data(), w.size());
  EXPECT_EQ(readSignature(r).marks, s.marks);
}

TEST(EvaluatorModelTest, RoundTripAndCalibration) {
  EvaluatorModel m = handModel();
  auto back = roundTrip(m);
  EXPECT_TRUE(back->hasWeights());
  EXPECT_EQ(back->info(), "{\"test\":true}");
  EXPECT_EQ(back->vocabulary(), m.vocabulary());
  EXPECT_FLOAT_EQ(prob(*back, "How do I learn Python?", "How can I learn Python?", 0.95f),
                  prob(m, "How do I learn Python?", "How can I learn Python?", 0.95f));
  EXPECT_FLOAT_EQ(back->thresholdFor(0.05f), 0.5f);
  EXPECT_NEAR(back->thresholdFor(0.03f), 0.7f, 1e-5);
  EXPECT_FLOAT_EQ(back->thresholdFor(0.0f), 0.9f) << "clamped at the strict end";
  EXPECT_FLOAT_EQ(back->thresholdFor(1.0f), 0.2f);
  EXPECT_EQ(codeOf([&] { back->thresholdFor(2.f); }), "INVALID_ARGUMENT");
  EXPECT_GT(prob(m, "How do I learn Python?", "How can I learn Python?", 0.95f), 0.85f);
  EXPECT_LT(prob(m, "best laptop in 2016", "best laptop in 2017", 0.99f), 0.5f);
}

TEST(EvaluatorModelTest, CorruptOrForeignFilesAreRejected) {
  auto bytes = handModel().serialize();
  auto load = [](std::vector<uint8_t> b) { EvaluatorModel::load(b.data(), b.size()); };
  EXPECT_EQ(codeOf([&] { load(bytes); }), "ok");
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  EXPECT_EQ(codeOf([&] { load(flipped); }), "CORRUPT_SNAPSHOT") << "checksum";
  EXPECT_EQ(codeOf([&] { load(std::vector<uint8_t>(bytes.begin(), bytes.end() - 9)); }), "CORRUPT_SNAPSHOT");
  auto magic = bytes;
  magic[0] = 'X';
  EXPECT_EQ(codeOf([&] { load(magic); }), "CORRUPT_SNAPSHOT");
  auto version = bytes;
  version[4] = 99;  // a future format; the checksum is checked after the version
  EXPECT_EQ(codeOf([&] { load(version); }), "UNSUPPORTED_VERSION");
  EXPECT_EQ(codeOf([&] { load({}); }), "CORRUPT_SNAPSHOT");
  // a snapshot of another format is not a model
  CacheConfig cfg;
  cfg.index.dim = kDim;
  Cache c(cfg);
  auto snap = c.snapshot(1);
  EXPECT_EQ(codeOf([&] { load(snap); }), "CORRUPT_SNAPSHOT");
  // weights of the wrong shape never get written
  EvaluatorModel m = corpusModel();
  EXPECT_EQ(codeOf([&] { m.setWeights(0, {0}, {1}, {1}, {0}, {}, 0, {{0.1f, 0.5f}}, ""); }), "INVALID_ARGUMENT");
  EXPECT_EQ(codeOf([&] {
              m.setWeights(0, std::vector<float>(kNumFeatures, 0), std::vector<float>(kNumFeatures, 1),
                           std::vector<float>(kNumFeatures, 0), {0}, {}, 0, {{0.1f, 0.5f}, {0.05f, 0.6f}}, "");
            }),
            "INVALID_ARGUMENT")
      << "calibration must rise in rate";
  EXPECT_FALSE(m.hasWeights());
}

TEST(LearnedCacheTest, NeedsAModelAndThePrompt) {
  CacheConfig cfg;
  cfg.index.dim = kDim;
  cfg.evaluator = "learned";
  EXPECT_EQ(codeOf([&] { Cache c(cfg); }), "INVALID_ARGUMENT");
  cfg.evaluator = "cosine";
  Cache c(cfg);
  auto idfOnly = corpusModel().serialize();
  EXPECT_EQ(codeOf([&] { c.loadEvaluatorModel(idfOnly.data(), idfOnly.size()); }), "ok");
  cfg.evaluator = "learned";
  EXPECT_EQ(codeOf([&] { c.configure(cfg); }), "INVALID_ARGUMENT") << "an IDF-only file has no weights";
  auto full = handModel().serialize();
  c.loadEvaluatorModel(full.data(), full.size());
  c.configure(cfg);
  auto v = randomUnit(2, kDim, 3);
  c.put("s", "How do I learn Python?", v.data(), kDim, 1, 0, 0);
  EXPECT_EQ(codeOf([&] { c.lookup("s", v.data(), kDim, 1, {}); }), "INVALID_ARGUMENT") << "no prompt text";
  auto r = c.lookup("s", "How can I learn Python?", v.data(), kDim, 1, {});
  EXPECT_TRUE(r.hit);
  EXPECT_GT(r.score, 0.5f);
  EXPECT_FLOAT_EQ(r.similarity, 1.f);
  auto java = c.lookup("s", "How do I learn Java?", v.data(), kDim, 2, {});
  EXPECT_FALSE(java.hit) << "same vector, but a differing rare word and name";
  EXPECT_LT(java.score, r.score);
}

// Signatures cost a tokenization per put and lookup: a cache computes them only when its
// evaluator reads them, and a snapshot says whether it carries them.
TEST(LearnedCacheTest, SignaturesOnlyWhenTheEvaluatorNeedsThem) {
  CacheConfig cfg;
  cfg.index.dim = kDim;
  CacheConfig learnedCfg = cfg;
  learnedCfg.evaluator = "learned";
  auto model = handModel().serialize();
  auto learnedCache = [&] {
    auto c = std::make_unique<Cache>(cfg);
    c->loadEvaluatorModel(model.data(), model.size());
    c->configure(learnedCfg);
    return c;
  };
  const std::string python = "How do I learn Python?", java = "How do I learn Java?";
  auto v = randomUnit(1, kDim, 7);

  Cache cosine(cfg);
  uint32_t id = cosine.put("s", python, v.data(), kDim, 1, 0, 0).id;
  EXPECT_TRUE(!cosine.find(id)->sig) << "'cosine' reads no signature";
  auto plain = cosine.snapshot(1);

  auto learned = learnedCache();
  uint32_t lid = learned->put("s", python, v.data(), kDim, 1, 0, 0).id;
  EXPECT_FALSE(learned->find(lid)->sig->words.empty());
  EXPECT_EQ(learned->find(lid)->sig->words, makeSignature(python).words);
  EXPECT_FALSE(learned->lookup("s", java, v.data(), kDim, 1, {}).hit) << "the signatures tell Java from Python";
  // A snapshot written without signatures cannot serve a learned cache (its rows can).
  EXPECT_EQ(codeOf([&] { learned->loadSnapshot(plain.data(), plain.size()); }), "SNAPSHOT_MISMATCH");
  EXPECT_NE(learned->find(lid), nullptr) << "a refused snapshot leaves the state untouched";
  EXPECT_LT(plain.size(), learned->snapshot(1).size());
  // One with signatures serves both.
  auto full = learned->snapshot(2);
  auto back = learnedCache();
  back->loadSnapshot(full.data(), full.size());
  EXPECT_EQ(back->find(lid)->sig->words, makeSignature(python).words);
  EXPECT_FALSE(back->lookup("s", java, v.data(), kDim, 2, {}).hit);
  EXPECT_EQ(codeOf([&] { cosine.loadSnapshot(full.data(), full.size()); }), "ok");
  // Rows restored into a learned cache get their signatures from the prompt.
  auto restored = learnedCache();
  Entry e{.id = 7, .answerBytes = 1, .created = 1, .lastAccess = 1};
  restored->restore(e, "s", python, v.data(), kDim);
  EXPECT_EQ(restored->find(7)->sig->words, makeSignature(python).words);
  EXPECT_TRUE(restored->lookup("s", "How can I learn Python?", v.data(), kDim, 2, {}).hit);
  // Entries stored without signatures cannot be switched to 'learned' in place.
  Cache sigless(cfg);
  sigless.loadEvaluatorModel(model.data(), model.size());
  sigless.put("s", python, v.data(), kDim, 1, 0, 0);
  EXPECT_EQ(codeOf([&] { sigless.configure(learnedCfg); }), "INVALID_ARGUMENT");
  sigless.clear();
  EXPECT_EQ(codeOf([&] { sigless.configure(learnedCfg); }), "ok") << "an empty cache can switch";
}

TEST(LearnedCacheTest, FeedbackChangesLaterDecisions) {
  CacheConfig cfg;
  cfg.index.dim = kDim;
  cfg.threshold = 0.9f;
  Cache c(cfg);
  auto v = randomUnit(2, kDim, 5);
  std::vector<float> q(v.begin(), v.begin() + kDim);
  for (size_t i = 0; i < kDim; ++i) q[i] += 0.25f * v[kDim + i];  // cosine ~0.97 to row 0
  uint32_t id = c.put("s", "a", v.data(), kDim, 1, 0, 0).id;
  auto r = c.lookup("s", "b", q.data(), kDim, 1, {});
  ASSERT_TRUE(r.hit);
  float off = c.feedback(id, false);
  EXPECT_GT(off, r.score - 0.9f) << "raised past the score of the wrong hit";
  EXPECT_GE(off, kFeedbackRaise);
  EXPECT_FALSE(c.lookup("s", "b", q.data(), kDim, 2, {}).hit) << "the same query now misses";
  EXPECT_TRUE(c.lookup("s", "a", v.data(), kDim, 3, {}).hit) << "its own vector still hits (cosine 1)";
  // right hits lower the offset step by step, down to the floor
  float o = c.find(id)->offset;
  EXPECT_FLOAT_EQ(c.feedback(id, true), o - kFeedbackLower);
  for (int i = 0; i < 200; ++i) c.feedback(id, true);
  EXPECT_FLOAT_EQ(c.find(id)->offset, kFeedbackMinOffset);
  EXPECT_TRUE(c.lookup("s", "b", q.data(), kDim, 4, {}).hit);
  // a threshold just above the query's cosine hits only thanks to the negative offset
  LookupOptions strict;
  strict.threshold = r.similarity + 0.02f;
  EXPECT_TRUE(c.lookup("s", "b", q.data(), kDim, 5, strict).hit);
  EXPECT_EQ(codeOf([&] { c.feedback(999, true); }), "NOT_FOUND");

  // offsets survive a snapshot; v1 snapshots are refused
  c.feedback(id, false);
  float raised = c.find(id)->offset;
  auto bytes = c.snapshot(9);
  Cache d(cfg);
  EXPECT_EQ(d.loadSnapshot(bytes.data(), bytes.size()), 9u);
  EXPECT_FLOAT_EQ(d.find(id)->offset, raised);
  EXPECT_FALSE(d.lookup("s", "b", q.data(), kDim, 6, {}).hit);
  auto old = bytes;
  old[4] = 1;
  EXPECT_EQ(codeOf([&] { d.loadSnapshot(old.data(), old.size()); }), "UNSUPPORTED_VERSION");
}

// The bundled model, when it has been built (node tools/build.mjs): different numbers and antonym
// clashes are vetoed, so those hard negatives miss even with identical embeddings. (Vitest checks
// all four of the cases, and that a paraphrase hits, with the real USE lite embeddings.)
TEST(LearnedCacheTest, BundledModelVetoesNumberAndPolarityClashes) {
  std::ifstream in(std::string(SEMCACHE_SOURCE_DIR) + "/dist/models/evaluator/model.bin", std::ios::binary);
  if (!in) GTEST_SKIP() << "dist/models/evaluator/model.bin not built";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto m = EvaluatorModel::load(bytes.data(), bytes.size());
  EXPECT_TRUE(m->vetoes() >> kNumberClash & 1);
  EXPECT_TRUE(m->vetoes() >> kPolarityClash & 1);
  uint32_t dims = m->projRows() ? m->projCols() : m->embDim();
  std::vector<float> u = randomUnit(1, dims ? dims : 1, 9);
  const float* vec = dims ? u.data() : nullptr;
  const char* pairs[][2] = {{"best laptop in 2016", "best laptop in 2017"},
                            {"is coffee good for you", "is coffee bad for you"},
                            {"What is 5 kg in pounds?", "What is 50 kg in pounds?"}};
  for (auto& p : pairs) {
    float f[kNumFeatures];
    m->features(makeSignature(p[0]), makeSignature(p[1]), 1.f, 1.f, f, vec, vec);
    EXPECT_EQ(m->predict(f, vec, vec), 0.f) << p[0] << " | " << p[1];
  }
  float f[kNumFeatures];
  m->features(makeSignature("best laptop in 2016"), makeSignature("best laptop of 2016"), 1.f, 1.f, f, vec, vec);
  EXPECT_GT(m->predict(f, vec, vec), m->thresholdFor(0.05f)) << "same number, same words, identical vectors";
}

// The projection: cos(P u, P v) is the kProjCosine feature, P survives the file as int8 (one
// scale per row), and a cache whose vectors have another size gets a clear error.
TEST(EvaluatorModelTest, ProjectionFeatureRoundTripsAndChecksDims) {
  EvaluatorModel m = corpusModel();
  float f[kNumFeatures];
  auto u = randomUnit(1, kDim, 11), v = randomUnit(1, kDim, 12);
  m.features(makeSignature("a b"), makeSignature("a c"), 0.25f, 1.f, f);
  EXPECT_FLOAT_EQ(f[kProjCosine], 0.25f) << "no projection: the plain cosine";
  // P keeps only the first two coordinates: cos(Pu, Pv) is the cosine of those
  std::vector<float> P(2 * kDim, 0.f);
  P[0] = 1, P[kDim + 1] = 1;
  m.setProjection(2, kDim, P);
  EXPECT_TRUE(m.needsVectors());
  EXPECT_EQ(codeOf([&] { m.features(makeSignature("a"), makeSignature("b"), 0.f, 1.f, f); }), "INVALID_ARGUMENT")
      << "a projection needs the vectors";
  m.features(makeSignature("a"), makeSignature("b"), 0.f, 1.f, f, u.data(), v.data());
  double want = (u[0] * v[0] + u[1] * v[1]) / std::sqrt((u[0] * u[0] + u[1] * u[1]) * (v[0] * v[0] + v[1] * v[1]));
  EXPECT_NEAR(f[kProjCosine], want, 1e-5);
  auto back = roundTrip(m);
  EXPECT_EQ(back->projRows(), 2u);
  EXPECT_EQ(back->projCols(), kDim);
  float g[kNumFeatures];
  back->features(makeSignature("a"), makeSignature("b"), 0.f, 1.f, g, u.data(), v.data());
  EXPECT_FLOAT_EQ(g[kProjCosine], f[kProjCosine]) << "the file holds the quantized P the features used";
  // int8 keeps a general P's cosine close
  auto R = randomUnit(kDim, kDim, 13);
  m.setProjection(kDim, kDim, R);
  m.features(makeSignature("a"), makeSignature("b"), 0.f, 1.f, f, u.data(), v.data());
  std::vector<double> pu(kDim), pv(kDim);
  for (size_t i = 0; i < kDim; ++i)
    for (size_t j = 0; j < kDim; ++j) pu[i] += R[i * kDim + j] * u[j], pv[i] += R[i * kDim + j] * v[j];
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < kDim; ++i) ab += pu[i] * pv[i], aa += pu[i] * pu[i], bb += pv[i] * pv[i];
  EXPECT_NEAR(f[kProjCosine], ab / std::sqrt(aa * bb), 0.02);
  // Exact in int8 (each row's largest |entry| is 127, then the row scaled by its own factor), with
  // a row count that is not a multiple of four: the rows taken four at a time and the rest one by
  // one each get their own scale.
  {
    const size_t rows = kDim + 3;
    std::vector<float> Q(rows * kDim);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < kDim; ++j)
        Q[i * kDim + j] = float((j == i % kDim ? 127 : int((i * 31 + j * 17) % 255) - 127) * (i + 1)) / 127.f;
    m.setProjection(uint32_t(rows), kDim, Q);
    m.features(makeSignature("a"), makeSignature("b"), 0.f, 1.f, f, u.data(), v.data());
    std::vector<double> qu(rows), qv(rows);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < kDim; ++j) qu[i] += double(Q[i * kDim + j]) * u[j], qv[i] += double(Q[i * kDim + j]) * v[j];
    double qab = 0, qaa = 0, qbb = 0;
    for (size_t i = 0; i < rows; ++i) qab += qu[i] * qv[i], qaa += qu[i] * qu[i], qbb += qv[i] * qv[i];
    EXPECT_NEAR(f[kProjCosine], qab / std::sqrt(qaa * qbb), 2e-4) << "only the vectors' 14-bit codes round";
  }
  EXPECT_EQ(codeOf([&] { m.setProjection(2, kDim, std::vector<float>(3, 1.f)); }), "INVALID_ARGUMENT");
  std::vector<float> bad(2 * kDim, 0.f);
  bad[3] = NAN;
  EXPECT_EQ(codeOf([&] { m.setProjection(2, kDim, bad); }), "INVALID_ARGUMENT");
  // a truncated projection is a corrupt file
  auto bytes = m.serialize();
  EXPECT_EQ(codeOf([&] { EvaluatorModel::load(bytes.data(), bytes.size() - 40); }), "CORRUPT_SNAPSHOT");

  // in a cache: the model was fitted on kDim-d vectors, a 2*kDim-d cache is refused at lookup
  EvaluatorModel w = handModel();
  w.setProjection(kDim, kDim, R);
  auto full = w.serialize();
  CacheConfig cfg;
  cfg.index.dim = 2 * kDim;
  Cache c(cfg);
  c.loadEvaluatorModel(full.data(), full.size());
  cfg.evaluator = "learned";
  c.configure(cfg);
  auto x = randomUnit(1, 2 * kDim, 14);
  c.put("s", "How do I learn Python?", x.data(), 2 * kDim, 1, 0, 0);
  EXPECT_EQ(codeOf([&] { c.lookup("s", "How can I learn Python?", x.data(), 2 * kDim, 2, {}); }), "INVALID_ARGUMENT");
}
