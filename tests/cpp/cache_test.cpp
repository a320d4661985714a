#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cache/cache.h"
#include "common/error.h"
#include "test_util.h"
#include "test_vectors.h"

using namespace semcache;
using semcache::testing::codeOf;
using semcache::testing::near;
using semcache::testing::randomUnit;

namespace {

constexpr size_t kDim = 32;

CacheConfig config(SpaceKind space = SpaceKind::F32) {
  CacheConfig c;
  c.index.dim = kDim;
  c.index.space = space;
  c.threshold = 0.9f;
  return c;
}

struct Fixture : ::testing::Test {
  std::vector<float> v = randomUnit(100, kDim, 11);
  const float* row(size_t i) { return &v[i * kDim]; }
};

}  // namespace

using CacheTest = Fixture;

TEST_F(CacheTest, ExactAndSemanticHitsAndMisses) {
  Cache c(config());
  auto put = c.put("s", "How do I boil an egg?", row(0), kDim, 100, 1000, 0);
  EXPECT_EQ(put.id, 1u);
  auto exact = c.lookupExact("s", "How do I boil an egg?", 1001);
  EXPECT_TRUE(exact.hit && exact.exact);
  EXPECT_EQ(exact.id, 1u);
  EXPECT_FALSE(c.lookupExact("s", "How do I boil an eggs?", 1001).hit);

  auto close = near(row(0), kDim, 0.05f, 1);  // cosine ~0.96
  auto r = c.lookup("s", close.data(), kDim, 1002, {});
  EXPECT_TRUE(r.hit);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.id, 1u);
  EXPECT_GT(r.similarity, 0.9f);
  auto far = c.lookup("s", row(1), kDim, 1003, {});
  EXPECT_FALSE(far.hit);
  EXPECT_EQ(far.id, 1u) << "a miss still reports the best candidate";
  EXPECT_LT(far.similarity, 0.9f);

  LookupOptions strict;
  strict.threshold = 0.999f;
  EXPECT_FALSE(c.lookup("s", close.data(), kDim, 1004, strict).hit);
  auto st = c.stats();
  EXPECT_EQ(st.lookups, 4u);
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.exactHits, 1u);
  EXPECT_EQ(st.misses, 2u);
  EXPECT_EQ(c.find(1)->hits, 2u);
}

TEST_F(CacheTest, HitsDecidedElsewhereAreCountedAndFeedbackReadsTheirScore) {
  Cache c(config());
  auto id = c.put("s", "How do I boil an egg?", row(0), kDim, 100, 1000, 0).id;
  auto brief = c.put("s", "What time is it?", row(1), kDim, 100, 1000, 50).id;
  EXPECT_TRUE(c.noteHit(id, 0.97f, 1010));
  EXPECT_EQ(c.find(id)->hits, 1u);
  EXPECT_EQ(c.find(id)->lastAccess, 1010);
  auto st = c.stats();
  EXPECT_EQ(st.lookups, 1u);
  EXPECT_EQ(st.hits, 1u);
  // a wrong hit lifts the entry's threshold past the score noted, as after a lookup's hit
  EXPECT_GT(c.baseThreshold() + c.feedback(id, false), 0.97f);
  EXPECT_FALSE(c.noteHit(999, 0.97f, 1020)) << "an entry gone meanwhile";
  EXPECT_FALSE(c.noteHit(brief, 0.97f, 1060)) << "an expired entry";
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(codeOf([&] { c.noteHit(id, NAN, 1030); }), "NOT_FINITE");
}

TEST_F(CacheTest, NormalizedKeysMatchRepeatsThatDifferInCaseAndSpacing) {
  CacheConfig cfg = config();
  EXPECT_TRUE(cfg.normalizedKeys) << "the default";
  Cache c(cfg);
  auto a = c.put("s", "How do I boil an egg?", row(0), kDim, 100, 1000, 0);
  auto hit = c.lookupExact("s", "  HOW do i   boil an EGG? ", 1001);
  EXPECT_TRUE(hit.hit && hit.exact);
  EXPECT_EQ(hit.id, a.id);
  EXPECT_FALSE(c.lookupExact("s", "How do I boil an eggs?", 1001).hit);
  // one entry per normalized prompt: the newer text replaces the older
  auto b = c.put("s", "how do i boil an egg?", row(1), kDim, 100, 1002, 0);
  EXPECT_EQ(b.replaced, a.id);
  EXPECT_EQ(c.stats().entries, 1u);
  // verbatim keys keep them apart
  CacheConfig verbatim = config();
  verbatim.normalizedKeys = false;
  Cache v(verbatim);
  v.put("s", "How do I boil an egg?", row(0), kDim, 100, 1000, 0);
  EXPECT_FALSE(v.lookupExact("s", "how do i boil an egg?", 1001).hit);
  // the key kind is fixed, and a snapshot of one kind is refused by a cache of the other
  cfg.normalizedKeys = false;
  EXPECT_EQ(codeOf([&] { c.configure(cfg); }), "INVALID_ARGUMENT");
  auto snap = c.snapshot(1);
  EXPECT_EQ(codeOf([&] { v.loadSnapshot(snap.data(), snap.size()); }), "SNAPSHOT_MISMATCH");
  Cache d(config());
  d.loadSnapshot(snap.data(), snap.size());
  EXPECT_TRUE(d.lookupExact("s", "HOW DO I BOIL AN EGG?", 1003).hit);
}

TEST_F(CacheTest, LookupNormalizesAndReturnsRankedCandidates) {
  Cache c(config());
  for (size_t i = 0; i < 10; ++i) c.put("s", "p" + std::to_string(i), row(i), kDim, 1, 0, 0);
  std::vector<float> scaled(row(3), row(3) + kDim);
  for (auto& x : scaled) x *= 42.f;
  auto r = c.lookup("s", scaled.data(), kDim, 1, {});
  ASSERT_TRUE(r.hit);
  EXPECT_EQ(r.id, 4u);
  EXPECT_NEAR(r.similarity, 1.f, 1e-5);
  ASSERT_EQ(r.candidates.size(), 4u);
  for (size_t i = 1; i < r.candidates.size(); ++i)
    EXPECT_GE(r.candidates[i - 1].similarity, r.candidates[i].similarity);
}

TEST_F(CacheTest, ScopesArePartitions) {
  Cache c(config());
  c.put("model=a", "q", row(0), kDim, 1, 0, 0);
  EXPECT_FALSE(c.lookup("model=b", row(0), kDim, 1, {}).hit);
  EXPECT_FALSE(c.lookupExact("model=b", "q", 1).hit);
  c.put("model=b", "other", row(1), kDim, 1, 0, 0);
  auto r = c.lookup("model=b", row(0), kDim, 2, {});
  EXPECT_FALSE(r.hit);
  for (auto& cand : r.candidates) EXPECT_EQ(c.scopeKey(c.find(cand.id)->scope), "model=b");
  EXPECT_TRUE(c.lookup("model=a", row(0), kDim, 3, {}).hit);
  auto cleared = c.clearScope("model=a");
  EXPECT_EQ(cleared, std::vector<uint32_t>{1});
  EXPECT_FALSE(c.lookup("model=a", row(0), kDim, 4, {}).hit);
  EXPECT_EQ(c.stats().entries, 1u);
}

TEST_F(CacheTest, SamePromptReplacesOlderEntry) {
  Cache c(config());
  auto a = c.put("s", "q", row(0), kDim, 10, 0, 0);
  auto b = c.put("s", "q", row(1), kDim, 20, 1, 0);
  EXPECT_EQ(b.replaced, a.id);
  EXPECT_EQ(c.find(a.id), nullptr);
  EXPECT_EQ(c.stats().entries, 1u);
  EXPECT_EQ(c.lookupExact("s", "q", 2).id, b.id);
}

static std::vector<uint32_t> evictedBy(EvictionPolicy p, const std::vector<float>& v) {
  CacheConfig cfg = config();
  cfg.policy = p;
  cfg.maxEntries = 4;
  cfg.evictFraction = 0;
  Cache c(cfg);
  for (int i = 0; i < 4; ++i) c.put("s", "p" + std::to_string(i), &v[i * kDim], kDim, 1, 10 * i, 0);
  // Entry 1 gets hit three times (old access), entry 2 once (latest access).
  for (int t = 0; t < 3; ++t) EXPECT_TRUE(c.lookupExact("s", "p0", 50 + t).hit);
  EXPECT_TRUE(c.lookupExact("s", "p1", 60).hit);
  std::vector<uint32_t> out;
  for (int i = 4; i < 7; ++i) {
    auto r = c.put("s", "p" + std::to_string(i), &v[i * kDim], kDim, 1, 100 + i, 0);
    out.insert(out.end(), r.evicted.begin(), r.evicted.end());
  }
  return out;
}

TEST_F(CacheTest, EvictionOrderPerPolicy) {
  // Ids 1..4 created at t=0,10,20,30. Accesses: id1 at 50,51,52 (3 hits), id2 at 60 (1 hit).
  EXPECT_EQ(evictedBy(EvictionPolicy::FIFO, v), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(evictedBy(EvictionPolicy::LRU, v), (std::vector<uint32_t>{3, 4, 1}));
  // LFU: ids 3,4 have 0 hits; then newer 0-hit entries (5, then 6) before id2's single hit.
  EXPECT_EQ(evictedBy(EvictionPolicy::LFU, v), (std::vector<uint32_t>{3, 4, 5}));
}

TEST_F(CacheTest, EvictRemovesExpiredThenByPolicyNeverProtected) {
  CacheConfig cfg = config();
  cfg.maxEntries = 0;
  Cache c(cfg);
  // Ids 1..10 put at t=0..9; id 8 expires at t=8. At t=20 id 1 is read (LRU: now the newest).
  for (int i = 0; i < 10; ++i) c.put("s", "p" + std::to_string(i), row(i), kDim, 1, i, i == 7 ? 1 : 0);
  EXPECT_TRUE(c.lookupExact("s", "p0", 20).hit);
  const uint32_t keep[] = {2};
  EXPECT_EQ(c.evict(3, 20, keep), (std::vector<uint32_t>{8, 3, 4}));
  EXPECT_EQ(c.stats().entries, 7u);
  EXPECT_EQ(c.stats().expirations, 1u);
  EXPECT_EQ(c.stats().evictions, 2u);
  EXPECT_NE(c.find(2), nullptr);
  EXPECT_EQ(c.evict(0, 21).size(), 0u);
  EXPECT_EQ(c.evict(100, 21).size(), 7u) << "n past the count empties the cache";
  EXPECT_EQ(c.config().maxEntries, 0u) << "the limits are untouched";
}

TEST(CacheConfigTest, DefaultsAreTheApiDefaults) {
  // js/options.ts takes these through CacheCore.defaults(); the API docs state the same figures.
  CacheConfig d;
  EXPECT_EQ(d.maxEntries, 100000u);
  EXPECT_EQ(d.maxBytes, 0u);
  EXPECT_EQ(d.policy, EvictionPolicy::LRU);
  EXPECT_EQ(d.evaluator, "cosine");
  EXPECT_FLOAT_EQ(d.threshold, 0.9f);
  EXPECT_EQ(d.candidates, 4u);
  EXPECT_EQ(d.index.flatLimit, 1024u);
}

TEST_F(CacheTest, EvictsInBatches) {
  CacheConfig cfg = config();
  cfg.maxEntries = 50;
  cfg.evictFraction = 0.2;
  Cache c(cfg);
  size_t batches = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = c.put("s", "p" + std::to_string(i), row(i), kDim, 1, i, 0);
    if (!r.evicted.empty()) {
      batches++;
      EXPECT_EQ(r.evicted.size(), 11u);  // 51 -> 40
    }
    EXPECT_LE(c.stats().entries, 50u);
  }
  EXPECT_EQ(batches, 5u);
  EXPECT_EQ(c.stats().evictions, 55u);
}

TEST_F(CacheTest, ByteBudgetHeld) {
  CacheConfig cfg = config();
  cfg.maxBytes = 10000;
  Cache c(cfg);
  size_t evicted = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = c.put("s", "p" + std::to_string(i), row(i), kDim, 200 + 13 * (i % 7), i, 0);
    evicted += r.evicted.size();
    auto st = c.stats();
    EXPECT_LE(st.bytes, 10000u);
    ASSERT_NE(c.find(r.id), nullptr) << "the entry just put is never its own victim";
  }
  EXPECT_GT(evicted, 0u);
  EXPECT_EQ(codeOf([&] { c.put("s", "huge", row(0), kDim, 20000, 200, 0); }), "CAPACITY");
}

TEST_F(CacheTest, TtlExpiry) {
  Cache c(config());
  c.put("s", "short", row(0), kDim, 1, 1000, 500);
  c.put("s", "long", row(1), kDim, 1, 1000, 0);
  EXPECT_TRUE(c.lookup("s", row(0), kDim, 1499, {}).hit);
  EXPECT_TRUE(c.lookupExact("s", "short", 1499).hit);
  auto r = c.lookup("s", row(0), kDim, 1500, {});
  EXPECT_FALSE(r.hit);
  EXPECT_EQ(r.expired, std::vector<uint32_t>{1});
  EXPECT_EQ(c.find(1), nullptr);
  EXPECT_TRUE(c.lookup("s", row(1), kDim, 1e12, {}).hit) << "no ttl, no expiry";
  c.put("s", "x", row(2), kDim, 1, 0, 10);
  c.put("s", "y", row(3), kDim, 1, 0, 20);
  EXPECT_EQ(c.purgeExpired(15), std::vector<uint32_t>{3});
  EXPECT_EQ(c.stats().expirations, 2u);
}

TEST_F(CacheTest, MarginEvaluatorRejectsAmbiguousQueries) {
  CacheConfig cfg = config();
  cfg.evaluator = "margin";
  cfg.margin = 0.05f;
  cfg.threshold = 0.5f;
  Cache c(cfg);
  auto a = near(row(0), kDim, 0.02f, 1), b = near(row(0), kDim, 0.02f, 2);
  c.put("s", "a", a.data(), kDim, 1, 0, 0);
  c.put("s", "b", b.data(), kDim, 1, 0, 0);
  auto r = c.lookup("s", row(0), kDim, 1, {});
  EXPECT_GT(r.similarity, 0.5f);
  EXPECT_FALSE(r.hit) << "two near-equal candidates: no clear winner";
  c.put("s", "c", row(5), kDim, 1, 0, 0);
  EXPECT_TRUE(c.lookup("s", row(5), kDim, 2, {}).hit);
}

TEST_F(CacheTest, BadInputGetsClearErrors) {
  Cache c(config());
  EXPECT_EQ(codeOf([&] { c.put("s", "p", row(0), kDim - 1, 1, 0, 0); }), "DIMENSION_MISMATCH");
  std::vector<float> nan(row(0), row(0) + kDim);
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(codeOf([&] { c.put("s", "p", nan.data(), kDim, 1, 0, 0); }), "NOT_FINITE");
  EXPECT_EQ(codeOf([&] { c.lookup("s", nan.data(), kDim, 0, {}); }), "NOT_FINITE");
  std::vector<float> zero(kDim, 0.f);
  EXPECT_EQ(codeOf([&] { c.put("s", "p", zero.data(), kDim, 1, 0, 0); }), "INVALID_ARGUMENT");
  LookupOptions o;
  o.threshold = 1.5f;
  EXPECT_EQ(codeOf([&] { c.lookup("s", row(0), kDim, 0, o); }), "INVALID_ARGUMENT");
  EXPECT_EQ(codeOf([&] { parsePolicy("mru"); }), "INVALID_ARGUMENT");
  EXPECT_EQ(c.stats().entries, 0u) << "failed puts leave nothing behind";
}

TEST_F(CacheTest, SnapshotRoundTrip) {
  for (SpaceKind sk : {SpaceKind::F32, SpaceKind::Int8}) {
    Cache c(config(sk));
    for (int i = 0; i < 60; ++i) c.put(i % 2 ? "odd" : "even", "p" + std::to_string(i), row(i), kDim, 10 + i, i, i % 5 ? 0 : 1e6);
    c.remove(3);
    c.lookupExact("odd", "p5", 100);
    auto bytes = c.snapshot(77);
    Cache d(config(sk));
    EXPECT_EQ(d.loadSnapshot(bytes.data(), bytes.size()), 77u);
    EXPECT_EQ(d.stats().entries, c.stats().entries);
    EXPECT_EQ(d.stats().bytes, c.stats().bytes);
    EXPECT_EQ(d.nextId(), c.nextId());
    EXPECT_EQ(d.find(6)->hits, 1u);
    for (int i = 0; i < 60; ++i) {
      const char* s = i % 2 ? "odd" : "even";
      auto a = c.lookup(s, row(i), kDim, 200, {}), b = d.lookup(s, row(i), kDim, 200, {});
      EXPECT_EQ(a.hit, b.hit);
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.similarity, b.similarity);
    }
    EXPECT_TRUE(d.lookupExact("even", "p10", 300).hit);
    auto put = d.put("even", "new", row(99), kDim, 1, 400, 0);
    EXPECT_EQ(put.id, 61u);
    Cache other(CacheConfig{.index = {.dim = kDim + 1}});
    EXPECT_EQ(codeOf([&] { other.loadSnapshot(bytes.data(), bytes.size()); }), "SNAPSHOT_MISMATCH");
    bytes[bytes.size() / 3] ^= 1;
    EXPECT_EQ(codeOf([&] { d.loadSnapshot(bytes.data(), bytes.size()); }), "CORRUPT_SNAPSHOT");
    EXPECT_TRUE(d.lookupExact("even", "new", 500).hit) << "a rejected snapshot leaves the state untouched";
  }
}

TEST_F(CacheTest, RestoreFromRowsKeepsIdsAndTimes) {
  Cache c(config());
  Entry e{.id = 40, .answerBytes = 5, .created = 10, .lastAccess = 20, .hits = 3};
  c.restore(e, "s", "q", row(0), kDim);
  EXPECT_EQ(c.nextId(), 41u);
  EXPECT_EQ(c.lookupExact("s", "q", 30).id, 40u);
  EXPECT_EQ(c.find(40)->hits, 4u);
  EXPECT_EQ(c.put("s", "other", row(1), kDim, 1, 40, 0).id, 41u);
}
