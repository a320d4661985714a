// Cache snapshots written in slices (SnapshotWriter) and read as a stream (SnapshotLoader): the
// same bytes as the whole snapshot when nothing changes, the final state when the cache changes
// between slices, any split of the stream, and damage refused without touching the cache.
#include <gtest/gtest.h>

#include <random>

#include "cache/cache.h"
#include "cache/snapshot.h"
#include "common/hash.h"
#include "test_util.h"
#include "test_vectors.h"

using namespace semcache;
using semcache::testing::codeOf;
using semcache::testing::near;
using semcache::testing::randomUnit;

namespace {

constexpr size_t kDim = 48;

CacheConfig config(SpaceKind space) {
  CacheConfig c;
  c.index.dim = kDim;
  c.index.space = space;
  c.index.flatLimit = 40;  // small scopes stay flat, bigger ones become graphs
  c.threshold = 0.95f;
  return c;
}

// Vectors around a few centres, so that searches have near neighbours to find.
std::vector<float> vectors(size_t n, uint32_t seed) {
  auto centres = randomUnit(8, kDim, seed);
  std::vector<float> out;
  for (size_t i = 0; i < n; ++i) {
    auto v = near(&centres[(i % 8) * kDim], kDim, 0.2f, seed * 7919 + uint32_t(i));
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Three scopes: a graph with tombstones, a small flat one, a graph; hits and feedback on some.
void fill(Cache& c, const std::vector<float>& v) {
  for (size_t i = 0; i < 400; ++i) {
    const char* scope = i % 10 == 0 ? "small" : (i % 2 ? "odd" : "even");
    c.put(scope, "prompt " + std::to_string(i), &v[i * kDim], kDim, uint32_t(10 + i), double(i), 0);
  }
  for (uint32_t id = 3; id < 400; id += 11) c.remove(id);
  for (size_t i = 0; i < 400; i += 7) c.lookupExact(i % 2 ? "odd" : "even", "prompt " + std::to_string(i), 500);
  c.feedback(5, false);
}

std::vector<uint8_t> sliced(Cache& c, size_t maxBytes, uint64_t seq, size_t* slices = nullptr) {
  SnapshotWriter w(c);
  ByteWriter out;
  size_t n = 1;
  while (!w.next(out, maxBytes, seq)) ++n;
  if (slices) *slices = n;
  return std::move(out.bytes());
}

std::vector<uint8_t> loadSplit(const std::vector<uint8_t>& bytes, size_t chunk, SpaceKind sk, uint64_t* seq) {
  Cache d(config(sk));
  SnapshotLoader l(d, bytes.size());
  for (size_t at = 0; at < bytes.size(); at += chunk) l.push(bytes.data() + at, std::min(chunk, bytes.size() - at));
  *seq = l.finish();
  return d.snapshot(*seq);
}

class Snapshots : public ::testing::TestWithParam<SpaceKind> {};
INSTANTIATE_TEST_SUITE_P(Spaces, Snapshots, ::testing::Values(SpaceKind::F32, SpaceKind::Int8),
                         [](const auto& info) { return std::string(spaceName(info.param)); });

}  // namespace

TEST_P(Snapshots, SlicedIsTheOneShotSnapshotByteForByte) {
  Cache c(config(GetParam()));
  auto v = vectors(400, 1);
  fill(c, v);
  const auto whole = c.snapshot(42);
  for (size_t maxBytes : {size_t(1), size_t(100), size_t(5000), size_t(1) << 20}) {
    size_t slices = 0;
    EXPECT_EQ(sliced(c, maxBytes, 42, &slices), whole) << "maxBytes " << maxBytes;
    if (maxBytes <= 5000) EXPECT_GT(slices, 3u) << "maxBytes " << maxBytes;
  }
}

TEST_P(Snapshots, AStreamSplitAnywhereLoadsTheSameState) {
  Cache c(config(GetParam()));
  auto v = vectors(400, 2);
  fill(c, v);
  const auto whole = c.snapshot(9);
  for (size_t chunk : {size_t(1), size_t(3), size_t(5), size_t(4096), whole.size()}) {
    uint64_t seq = 0;
    EXPECT_EQ(loadSplit(whole, chunk, GetParam(), &seq), whole) << "chunk " << chunk;
    EXPECT_EQ(seq, 9u);
  }
}

// Puts (into existing, new and promoted scopes), removals (emptying a scope), hits, feedback and
// a removed entry restored under its id (hnswlib revives the tombstone) between slices: the
// snapshot loads as the cache was when it finished, byte for byte and search for search.
TEST_P(Snapshots, ChangesBetweenSlicesGiveTheFinalState) {
  const SpaceKind sk = GetParam();
  Cache c(config(sk));
  auto v = vectors(1200, 3);
  fill(c, v);
  c.put("doomed", "d1", &v[401 * kDim], kDim, 5, 600, 0);
  c.put("doomed", "d2", &v[402 * kDim], kDim, 5, 600, 0);
  const Entry revived = *c.find(20);
  std::mt19937 rng(5);
  SnapshotWriter w(c);
  ByteWriter out;
  size_t step = 0, next = 500;
  for (bool done = false; !done; ++step) {
    // A whole snapshot taken meanwhile (it tracks nothing) must leave the sliced one intact.
    if (step % 5 == 4) c.snapshot(1);
    done = w.next(out, 3000, 77);
    if (done) break;
    double now = 1000 + double(step);
    switch (step % 6) {
      case 0:  // new entries in the graphs and in the flat scope, which grows into a graph
        for (int k = 0; k < 6 && next < 1200; ++k, ++next)
          c.put(next % 3 ? "odd" : "small", "late " + std::to_string(next), &v[next * kDim], kDim, 7, now, 0);
        break;
      case 1:  // removals
        for (int k = 0; k < 3; ++k) c.remove(1 + rng() % 400);
        break;
      case 2:  // semantic and exact hits (touches), feedback
        c.lookup("even", &v[(rng() % 400) * kDim], kDim, now, {});
        c.lookupExact("odd", "prompt " + std::to_string(1 + 2 * (rng() % 199)), now);
        if (c.find(9)) c.feedback(9, rng() % 2);
        break;
      case 3:  // a scope emptied (dropped), then one made
        if (c.find(401)) c.remove(401), c.remove(402);
        else c.put("fresh " + std::to_string(step), "f", &v[(step % 400) * kDim], kDim, 3, now, 0);
        break;
      case 4:  // a removed entry comes back under its id: its tombstone is revived in place
        if (c.find(revived.id)) {
          c.remove(revived.id);
          Entry e = revived;
          e.sig = {};
          c.restore(e, c.scopeKey(revived.scope), "revived", &v[1199 * kDim], kDim);
        }
        break;
      default: break;
    }
  }
  EXPECT_GT(step, 10u) << "the snapshot should take many slices";
  uint64_t seq = 0;
  EXPECT_EQ(loadSplit(out.bytes(), 777, sk, &seq), c.snapshot(77)) << "the loaded state is the cache's at the end";
  Cache d(config(sk));
  d.loadSnapshot(out.bytes().data(), out.size());
  EXPECT_EQ(d.stats().entries, c.stats().entries);
  for (size_t q = 0; q < 60; ++q) {
    auto a = c.lookup(q % 2 ? "odd" : "even", &v[(q * 17 % 1200) * kDim], kDim, 9999, {});
    auto b = d.lookup(q % 2 ? "odd" : "even", &v[(q * 17 % 1200) * kDim], kDim, 9999, {});
    ASSERT_EQ(a.candidates.size(), b.candidates.size());
    for (size_t i = 0; i < a.candidates.size(); ++i) EXPECT_EQ(a.candidates[i].id, b.candidates[i].id);
  }
  // After the snapshot, tombstones are reused again and nothing is tracked any more.
  EXPECT_EQ(c.snapshot(1), c.snapshot(1));
}

TEST_P(Snapshots, ClearingTheCacheAbortsASnapshotInProgress) {
  Cache c(config(GetParam()));
  auto v = vectors(400, 4);
  fill(c, v);
  SnapshotWriter w(c);
  ByteWriter out;
  EXPECT_FALSE(w.next(out, 1000, 1));
  c.clear();
  EXPECT_EQ(codeOf([&] { w.next(out, 1000, 1); }), "ABORTED");
  SnapshotWriter again(c);  // a new one after the clear works
  ByteWriter fresh;
  while (!again.next(fresh, 1000, 2)) {
  }
  Cache d(config(GetParam()));
  EXPECT_EQ(d.loadSnapshot(fresh.bytes().data(), fresh.size()), 2u);
  EXPECT_EQ(d.stats().entries, 0u);
}

// Damage anywhere is refused with a code, before or at the end of the stream, and the cache
// being loaded keeps its state. The checksum covers every byte; parse errors come first.
TEST_P(Snapshots, DamagedStreamsAreRefusedAndLeaveTheCacheAsItWas) {
  Cache c(config(GetParam()));
  auto v = vectors(400, 6);
  fill(c, v);
  const auto whole = c.snapshot(3);
  Cache d(config(GetParam()));
  d.put("keep", "me", &v[0], kDim, 1, 1, 0);
  auto load = [&](const std::vector<uint8_t>& b, size_t chunk) {
    return codeOf([&] {
      SnapshotLoader l(d, b.size());
      for (size_t at = 0; at < b.size(); at += chunk) l.push(b.data() + at, std::min(chunk, b.size() - at));
      l.finish();
    });
  };
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    auto bad = whole;
    bad[rng() % bad.size()] ^= uint8_t(1 + rng() % 255);
    std::string code = load(bad, 1 + rng() % 5000);
    EXPECT_TRUE(code == "CORRUPT_SNAPSHOT" || code == "UNSUPPORTED_VERSION" || code == "SNAPSHOT_MISMATCH")
        << "trial " << trial << ": " << code;
  }
  EXPECT_EQ(load({whole.begin(), whole.end() - 1}, 4096), "CORRUPT_SNAPSHOT");
  EXPECT_EQ(load({whole.begin(), whole.begin() + whole.size() / 2}, 4096), "CORRUPT_SNAPSHOT");
  auto longer = whole;
  longer.push_back(0);
  EXPECT_EQ(load(longer, 4096), "CORRUPT_SNAPSHOT");
  auto version = whole;
  version[4] = 3;
  EXPECT_EQ(load(version, 4096), "UNSUPPORTED_VERSION");
  EXPECT_EQ(d.stats().entries, 1u);
  EXPECT_TRUE(d.lookupExact("keep", "me", 2).hit) << "a refused snapshot leaves the state untouched";
  Cache other(CacheConfig{.index = {.dim = kDim + 1}});
  EXPECT_EQ(codeOf([&] { other.loadSnapshot(whole.data(), whole.size()); }), "SNAPSHOT_MISMATCH");
}
