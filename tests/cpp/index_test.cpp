#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "common/error.h"
#include "common/hash.h"
#include "index/vector_index.h"
#include "test_vectors.h"

using namespace semcache;
using semcache::testing::randomUnit;

TEST(Hash, Xxh64KnownValues) {
  EXPECT_EQ(xxh64("", 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64(std::string_view("a")), 0xD24EC4F1A98C6E5BULL);
  EXPECT_NE(xxh64("abc"), xxh64("abd"));
}

TEST(Hash, Xxh64InPiecesEqualsWhole) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 37 + 11);
  for (size_t len : {0, 1, 31, 32, 33, 100, 1000}) {
    for (size_t piece : {1, 7, 32, 33, 500}) {
      Xxh64 h(5);
      for (size_t at = 0; at < len; at += piece) h.update(data.data() + at, std::min(piece, len - at));
      EXPECT_EQ(h.digest(), xxh64(data.data(), len, 5)) << "len " << len << " piece " << piece;
    }
  }
}

// Native only: the wasm build's recall on the same data is checked by tests/js/core-wasm.test.ts
// through the bindings, and these 20k-point builds would add minutes to the wasm ctest run.
#if !defined(__wasm__)
struct RecallCase {
  SpaceKind space;
  bool clustered;  // around 200 centres, like real embeddings; else uniform on the sphere
};

class IndexRecall : public ::testing::TestWithParam<RecallCase> {};

// recall@10 against brute force over the same stored vectors (the graph's own error).
// Uniform random 512-d vectors are the worst case for any graph index (no structure to exploit):
// they need M 32 and a search ef of 1600 for 0.99, at which point brute force is as fast.
// Clustered vectors, shaped like real embeddings, reach it with the defaults (M 16, ef 40).
TEST_P(IndexRecall, RecallAt10AgainstBruteForceOn20k) {
  const auto [space, clustered] = GetParam();
  const size_t n = 20000, dim = 512, nq = 100, k = 10;
  std::vector<float> data, queries;
  if (clustered) {
    auto centres = randomUnit(200, dim, 1);
    for (size_t i = 0; i < n + nq; ++i) {
      auto v = semcache::testing::near(&centres[(i * 7919 % 200) * dim], dim, 0.03f, uint32_t(i));
      (i < n ? data : queries).insert((i < n ? data : queries).end(), v.begin(), v.end());
    }
  } else {
    data = randomUnit(n, dim, 1);
    queries = randomUnit(nq, dim, 2);
  }
  IndexParams p{.space = space, .dim = dim, .M = clustered ? 16u : 32u, .efConstruction = 100,
                .efSearch = clustered ? IndexParams{}.efSearch : 1600u};
  VectorIndex idx(p);
  for (size_t i = 0; i < n; ++i) idx.add(i + 1, &data[i * dim]);
  EXPECT_EQ(idx.size(), n);
  size_t found = 0;
  for (size_t q = 0; q < nq; ++q) {
    auto approx = idx.search(&queries[q * dim], k);
    auto exact = idx.exactSearch(&queries[q * dim], k);
    ASSERT_EQ(approx.size(), k);
    std::set<uint64_t> truth;
    for (auto& h : exact) truth.insert(h.label);
    for (auto& h : approx) found += truth.count(h.label);
    for (size_t i = 1; i < approx.size(); ++i) EXPECT_GE(approx[i - 1].similarity, approx[i].similarity);
  }
  double recall = double(found) / (nq * k);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.99) << "space " << spaceName(space) << (clustered ? " clustered" : " uniform");
}

INSTANTIATE_TEST_SUITE_P(Spaces, IndexRecall,
                         ::testing::Values(RecallCase{SpaceKind::F32, true}, RecallCase{SpaceKind::Int8, true},
                                           RecallCase{SpaceKind::F32, false}, RecallCase{SpaceKind::Int8, false}),
                         [](const auto& info) {
                           return std::string(spaceName(info.param.space)) + (info.param.clustered ? "_clustered" : "_uniform");
                         });
#endif  // !__wasm__

// search() natively runs hnswlib's searchKnn and in wasm our own level-0 loop (graphSearch):
// both must return the same hits, in the same order, with and without tombstones. In the wasm
// build (ctest runs it under Node) this compares the loop users run, which scores neighbours with
// the batched SIMD128 kernels, against hnswlib's searchKnn calling the single-point distance; 100-d
// takes the kernels' tail paths.
TEST(Index, OwnSearchLoopMatchesHnswlib) {
  const size_t n = 5000;
  for (uint32_t dim : {96u, 100u}) {
    auto centres = randomUnit(50, dim, 11);
    for (SpaceKind sk : {SpaceKind::F32, SpaceKind::Int8}) {
      VectorIndex idx({.space = sk, .dim = dim, .flatLimit = 0});
      std::vector<float> queries;
      for (size_t i = 0; i < n + 50; ++i) {
        auto v = semcache::testing::near(&centres[(i * 13) % 50 * dim], dim, 0.05f, uint32_t(i + 1));
        if (i < n) idx.add(i, v.data());
        else queries.insert(queries.end(), v.begin(), v.end());
      }
      for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1)
          for (size_t i = 0; i < n; i += 7) idx.remove(i);  // not bare-bone any more
        for (size_t q = 0; q < 50; ++q) {
          for (size_t ef : {10, 40, 100}) {
            auto a = idx.search(&queries[q * dim], 10, ef, VectorIndex::Loop::Hnswlib);
            auto b = idx.search(&queries[q * dim], 10, ef, VectorIndex::Loop::Own);
            ASSERT_EQ(a.size(), b.size());
            for (size_t i = 0; i < a.size(); ++i) {
              EXPECT_EQ(a[i].label, b[i].label) << spaceName(sk) << " dim " << dim << " pass " << pass << " query " << q << " ef " << ef;
              EXPECT_EQ(a[i].similarity, b[i].similarity);
              if (pass == 1) EXPECT_NE(a[i].label % 7, 0u) << "a removed label came back";
            }
          }
        }
      }
    }
  }
}

// The int8 code keeps the direction of v: decoded it is unit length, and no worse in angle than
// plain max-abs rounding.
TEST(Index, Int8CodeIsUnitAndCloseInAngle) {
  const size_t dim = 512;
  auto v = randomUnit(20, dim, 21);
  auto space = makeSpace(SpaceKind::Int8, dim);
  std::vector<uint8_t> point(space->get_data_size());
  std::vector<float> back(dim);
  for (size_t r = 0; r < 20; ++r) {
    const float* x = &v[r * dim];
    space->encode(x, point.data());
    space->decode(point.data(), back.data());
    double norm = 0, cosine = 0, plainDot = 0, plainNorm = 0, maxAbs = 0;
    for (size_t i = 0; i < dim; ++i) maxAbs = std::max(maxAbs, double(std::fabs(x[i])));
    for (size_t i = 0; i < dim; ++i) {
      norm += double(back[i]) * back[i];
      cosine += double(back[i]) * x[i];
      double plain = std::nearbyint(x[i] * 127 / maxAbs);
      plainDot += plain * x[i];
      plainNorm += plain * plain;
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_GE(cosine, plainDot / std::sqrt(plainNorm) - 1e-6);
    EXPECT_GT(cosine, 0.9999);
  }
}

TEST(Index, SimilarityIsCosine) {
  auto v = randomUnit(2, 64, 3);
  for (SpaceKind sk : {SpaceKind::F32, SpaceKind::Int8}) {
    VectorIndex idx({.space = sk, .dim = 64});
    idx.add(5, v.data());
    auto hits = idx.search(v.data() + 64, 1);
    ASSERT_EQ(hits.size(), 1u);
    double dot = 0;
    for (int i = 0; i < 64; ++i) dot += double(v[i]) * v[64 + i];
    EXPECT_NEAR(hits[0].similarity, dot, sk == SpaceKind::F32 ? 1e-5 : 1e-2);
    EXPECT_NEAR(idx.search(v.data(), 1)[0].similarity, 1.0, sk == SpaceKind::F32 ? 1e-5 : 1e-2);
  }
}

// Both modes: flat (small indexes, exact scan) and graph (HNSW), through the same interface.
class IndexModes : public ::testing::TestWithParam<uint32_t> {};  // the flatLimit
INSTANTIATE_TEST_SUITE_P(Modes, IndexModes, ::testing::Values(0u, 1024u),
                         [](const auto& info) { return std::string(info.param ? "flat" : "graph"); });

TEST_P(IndexModes, RemoveTombstonesAndReusesSlots) {
  const size_t dim = 32;
  auto v = randomUnit(200, dim, 4);
  VectorIndex idx({.dim = dim, .initialCapacity = 100, .flatLimit = GetParam()});
  EXPECT_EQ(idx.isGraph(), GetParam() == 0);
  for (size_t i = 0; i < 100; ++i) idx.add(i + 1, &v[i * dim]);
  EXPECT_EQ(idx.capacity(), 100u);
  for (size_t i = 0; i < 50; ++i) idx.remove(i + 1);
  EXPECT_THROW(idx.vector(1), Error);
  EXPECT_NEAR(idx.vector(51)[0], v[50 * dim], 1e-6);
  EXPECT_EQ(idx.size(), 50u);
  EXPECT_FALSE(idx.contains(1));
  for (auto& h : idx.search(&v[0], 50)) EXPECT_GT(h.label, 50u) << "a removed label came back";
  for (size_t i = 100; i < 150; ++i) idx.add(i + 1, &v[i * dim]);
  EXPECT_EQ(idx.capacity(), 100u) << "tombstoned slots should be reused before growing";
  EXPECT_EQ(idx.size(), 100u);
  EXPECT_EQ(idx.search(&v[120 * dim], 1)[0].label, 121u);
  EXPECT_THROW(idx.remove(1), Error);
  EXPECT_THROW(idx.add(121, &v[0]), Error);
}

TEST_P(IndexModes, ALabelRemovedCanBeAddedAgain) {
  // What a reopen does with a row changed after the snapshot: remove it, add it back.
  const size_t dim = 32;
  auto v = randomUnit(60, dim, 5);
  VectorIndex idx({.dim = dim, .initialCapacity = 64, .flatLimit = GetParam()});
  for (size_t i = 0; i < 50; ++i) idx.add(i + 1, &v[i * dim]);
  idx.remove(7);
  idx.add(7, &v[55 * dim]);  // a new vector under the old label
  EXPECT_TRUE(idx.contains(7));
  EXPECT_EQ(idx.size(), 50u);
  EXPECT_EQ(idx.search(&v[55 * dim], 1)[0].label, 7u);
  EXPECT_NEAR(idx.vector(7)[0], v[55 * dim], 1e-6);
  idx.remove(8);
  idx.add(8, &v[7 * dim]);  // the same label and vector
  EXPECT_EQ(idx.search(&v[7 * dim], 1)[0].label, 8u);
  EXPECT_THROW(idx.add(8, &v[0]), Error);  // live labels are still refused
}

TEST_P(IndexModes, GrowsWhenFull) {
  const size_t dim = 16;
  auto v = randomUnit(300, dim, 5);
  VectorIndex idx({.dim = dim, .initialCapacity = 10, .flatLimit = GetParam()});
  for (size_t i = 0; i < 300; ++i) idx.add(i + 1, &v[i * dim]);
  EXPECT_GE(idx.capacity(), 300u);
  for (size_t i = 0; i < 300; i += 37) EXPECT_EQ(idx.search(&v[i * dim], 1)[0].label, i + 1);
}

TEST_P(IndexModes, SnapshotRoundTripGivesIdenticalResults) {
  const size_t n = GetParam() ? 800 : 3000, dim = 64;
  auto data = randomUnit(n, dim, 6);
  auto queries = randomUnit(50, dim, 7);
  for (SpaceKind sk : {SpaceKind::F32, SpaceKind::Int8}) {
    VectorIndex idx({.space = sk, .dim = dim, .efSearch = 50, .flatLimit = GetParam()});
    for (size_t i = 0; i < n; ++i) idx.add(i + 1, &data[i * dim]);
    for (size_t i = 0; i < n; i += 7) idx.remove(i + 1);
    auto bytes = idx.snapshot();
    auto copy = VectorIndex::fromSnapshot(bytes.data(), bytes.size());
    EXPECT_EQ(copy->size(), idx.size());
    EXPECT_EQ(copy->isGraph(), idx.isGraph());
    EXPECT_EQ(copy->params().efSearch, 50u);
    for (size_t q = 0; q < 50; ++q) {
      auto a = idx.search(&queries[q * dim], 10), b = copy->search(&queries[q * dim], 10);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].label, b[i].label);
        EXPECT_EQ(a[i].similarity, b[i].similarity);
      }
    }
    EXPECT_EQ(copy->snapshot(), bytes) << "a loaded snapshot re-serializes to the same bytes";
    copy->add(n + 1, &queries[0]);  // still writable after loading, reusing a tombstone
    EXPECT_EQ(copy->search(&queries[0], 1)[0].label, n + 1);
  }
}

static std::string codeOf(const std::vector<uint8_t>& b) {
  try {
    VectorIndex::fromSnapshot(b.data(), b.size());
  } catch (const Error& e) {
    return e.code();
  }
  return "accepted";
}

TEST_P(IndexModes, CorruptSnapshotsAreRejected) {
  const size_t dim = 16;
  auto v = randomUnit(100, dim, 8);
  VectorIndex idx({.dim = dim, .flatLimit = GetParam()});
  for (size_t i = 0; i < 100; ++i) idx.add(i + 1, &v[i * dim]);
  const auto good = idx.snapshot();
  ASSERT_EQ(codeOf(good), "accepted");
  auto flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  EXPECT_EQ(codeOf(flipped), "CORRUPT_SNAPSHOT");
  EXPECT_EQ(codeOf({good.begin(), good.begin() + good.size() - 9}), "CORRUPT_SNAPSHOT");
  EXPECT_EQ(codeOf({good.begin(), good.begin() + 10}), "CORRUPT_SNAPSHOT");
  EXPECT_EQ(codeOf({}), "CORRUPT_SNAPSHOT");
  auto magic = good;
  magic[0] = 'X';
  EXPECT_EQ(codeOf(magic), "CORRUPT_SNAPSHOT");
  auto version = good;
  version[4] = 9;
  EXPECT_EQ(codeOf(version), "UNSUPPORTED_VERSION");
  std::vector<uint8_t> noise(4096);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = uint8_t(i * 131 + 7);
  EXPECT_EQ(codeOf(noise), "CORRUPT_SNAPSHOT");
}

// The payload records the hnswlib version and label width (after the frame header, seven u32
// parameters and the mode byte). A graph laid out by another hnswlib or with other label widths
// (a native snapshot in wasm) is refused with a code the JS side answers by rebuilding from rows;
// a flat index holds nothing of hnswlib's and loads anywhere.
TEST_P(IndexModes, SnapshotsRecordTheHnswlibVersionAndLabelWidth) {
  const size_t dim = 16, stamp = 16 + 5 + 7 * 4 + 1;  // frame, head unit, parameters, mode
  auto v = randomUnit(100, dim, 8);
  VectorIndex idx({.dim = dim, .flatLimit = GetParam()});
  for (size_t i = 0; i < 100; ++i) idx.add(i + 1, &v[i * dim]);
  const auto good = idx.snapshot();
  uint32_t version, labelBytes;
  std::memcpy(&version, &good[stamp], 4);
  std::memcpy(&labelBytes, &good[stamp + 4], 4);
  EXPECT_EQ(version, 0x000800u);
  EXPECT_EQ(labelBytes, sizeof(size_t));
  auto patched = [&](size_t at, uint32_t value) {
    auto b = good;
    std::memcpy(&b[at], &value, 4);
    uint64_t sum = xxh64(b.data(), b.size() - 8);
    std::memcpy(&b[b.size() - 8], &sum, 8);
    return b;
  };
  const bool graph = GetParam() == 0;
  EXPECT_EQ(codeOf(patched(stamp, 0x000700)), graph ? "UNSUPPORTED_VERSION" : "accepted");
  EXPECT_EQ(codeOf(patched(stamp + 4, sizeof(size_t) == 8 ? 4 : 8)), graph ? "SNAPSHOT_MISMATCH" : "accepted");
  EXPECT_EQ(codeOf(patched(stamp, 0x000800)), "accepted");
}

TEST(Index, FlatIsExactAndPromotesToGraphPastItsLimit) {
  const size_t dim = 48, limit = 300;
  auto v = randomUnit(1000, dim, 9);
  auto q = randomUnit(20, dim, 10);
  VectorIndex idx({.dim = dim, .flatLimit = limit});
  for (size_t i = 0; i < limit; ++i) idx.add(i + 1, &v[i * dim]);
  EXPECT_FALSE(idx.isGraph());
  for (size_t j = 0; j < 20; ++j) {  // flat search is the exact answer
    auto a = idx.search(&q[j * dim], 5), b = idx.exactSearch(&q[j * dim], 5);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(a[i].label, b[i].label);
  }
  idx.remove(7);
  idx.add(limit + 1, &v[limit * dim]);  // reuses the tombstone: still flat
  EXPECT_FALSE(idx.isGraph());
  idx.add(limit + 2, &v[(limit + 1) * dim]);  // one past the limit
  EXPECT_TRUE(idx.isGraph());
  EXPECT_EQ(idx.size(), limit + 1);
  EXPECT_FALSE(idx.contains(7));
  for (size_t i = limit + 2; i < 1000; ++i) idx.add(i + 1, &v[i * dim]);
  for (size_t i = 0; i < 1000; i += 97)
    if (i != 6) EXPECT_EQ(idx.search(&v[i * dim], 1)[0].label, i + 1);
}

// efSearch 0 (the default) grows the candidate list with the graph; a set value stays fixed.
TEST(Index, AutomaticEfSearchGrowsWithSize) {
  EXPECT_EQ(IndexParams{}.efSearch, 0u);
  EXPECT_EQ(VectorIndex::autoEfSearch(0), 40u);
  EXPECT_EQ(VectorIndex::autoEfSearch(100000), 40u);
  EXPECT_EQ(VectorIndex::autoEfSearch(1000000), 200u);
  EXPECT_EQ(VectorIndex::autoEfSearch(300000), 86u);
  EXPECT_EQ(VectorIndex::autoEfSearch(size_t(1) << 30), 512u);
  for (size_t n = 100000; n < 3000000; n += 50000)
    EXPECT_LE(VectorIndex::autoEfSearch(n), VectorIndex::autoEfSearch(n + 50000));
  const uint32_t dim = 16;
  VectorIndex idx({.dim = dim, .flatLimit = 0});
  EXPECT_EQ(idx.efSearch(), 40u);
  idx.setEfSearch(7);
  EXPECT_EQ(idx.efSearch(), 7u);
  auto q = randomUnit(1, dim, 3);
  for (size_t i = 0; i < 200; ++i) idx.add(i, randomUnit(1, dim, uint32_t(i + 10)).data());
  EXPECT_EQ(idx.search(q.data(), 1, 0, VectorIndex::Loop::Hnswlib)[0].label, idx.search(q.data(), 1, 7, VectorIndex::Loop::Hnswlib)[0].label);
  idx.setEfSearch(0);
  EXPECT_EQ(idx.efSearch(), 40u);
  // an automatic search on a small graph is exact here, as is a wide fixed one
  EXPECT_EQ(idx.search(q.data(), 1)[0].label, idx.exactSearch(q.data(), 1)[0].label);
}

TEST(Index, BadParametersAreRejected) {
  EXPECT_THROW(VectorIndex({.dim = 0}), Error);
  EXPECT_THROW(VectorIndex({.dim = 8, .M = 1}), Error);
  EXPECT_THROW(parseSpace("f16"), Error);
}
