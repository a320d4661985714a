// What a big cache holds on the heap: the accounting (Cache::memory) against the allocator's own
// count, the graph's capacity as it grows and as a snapshot is loaded (room for the elements,
// not the capacity the writer had grown to), and entries that carry no signature unless the
// evaluator reads them.
#include <gtest/gtest.h>
#include <malloc.h>

#include "cache/cache.h"
#include "cache/snapshot.h"
#include "index/vector_index.h"
#include "test_vectors.h"

using namespace semcache;
using semcache::testing::randomUnit;

namespace {

constexpr size_t kDim = 64;

CacheConfig int8Config() {
  CacheConfig c;
  c.index.dim = kDim;
  c.index.space = SpaceKind::Int8;
  c.maxEntries = 0;
  return c;
}

// Bytes the allocator has handed out (glibc serves big blocks by mmap, counted apart).
uint64_t allocated() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  struct mallinfo2 m = mallinfo2();
  return uint64_t(m.uordblks) + uint64_t(m.hblkhd);
#else
  struct mallinfo m = mallinfo();  // dlmalloc (wasm): no mmap; hblkhd is its own overhead
  return uint64_t(unsigned(m.uordblks));
#endif
}

void fill(Cache& c, const std::vector<float>& v, size_t from, size_t to, const std::string& scope = "") {
  for (size_t i = from; i < to; ++i) c.put(scope, "prompt " + std::to_string(i), &v[i * kDim], kDim, 100, double(i), 0);
}

}  // namespace

TEST(Memory, AccountingMatchesTheAllocator) {
  const size_t n = 6000;
  auto v = randomUnit(n, kDim, 11);
  const uint64_t before = allocated();
  uint64_t accounted = 0, held = 0;
  {
    Cache c(int8Config());
    fill(c, v, 0, n - 200);
    fill(c, v, n - 200, n, "small scope");  // stays flat
    CacheMemory m = c.memory();
    held = allocated() - before;
    accounted = m.total();
    EXPECT_EQ(m.signatures, 0u) << "the cosine evaluator reads no signatures: entries carry none";
    EXPECT_GT(m.index.flat, 0u);
    EXPECT_EQ(m.index.elements, n - 200);
    EXPECT_GE(m.index.slots, m.index.elements);
    EXPECT_EQ(m.index.records, allocBytes(m.index.slots * (4 + 4 * 32 + c.vectorBytes() + sizeof(size_t))));  // 2M links, point, label
    EXPECT_GT(m.entries, (n)*sizeof(Entry));
  }
  // Everything the cache holds is in a part, give or take the objects themselves and what the
  // runtime allocates once on first use (in wasm ~95 KiB here; at 100k entries the parts and
  // the allocator agree to 0.7%, see docs/benchmarks.md#scale-heap).
  EXPECT_NEAR(double(accounted), double(held), 0.01 * double(held) + (128 << 10))
      << "accounted " << accounted << ", allocated " << held;
}

TEST(Memory, GraphsGrowByDoublingThenByEighths) {
  EXPECT_EQ(VectorIndex::grownCapacity(2048), 4096u);
  EXPECT_EQ(VectorIndex::grownCapacity(32768), 65536u);
  EXPECT_EQ(VectorIndex::grownCapacity(65536), 73728u);
  const uint64_t big = 1'000'000;
  EXPECT_GE(VectorIndex::grownCapacity(big), big + big / 8);
  EXPECT_LT(VectorIndex::grownCapacity(big), big + big / 8 + 1024);
  EXPECT_EQ(VectorIndex::roomFor(100), 1124u);
  EXPECT_EQ(VectorIndex::roomFor(1'000'000), 1'062'500u);
}

TEST(Memory, ASnapshotLoadsWithRoomForItsElementsNotTheGrownCapacity) {
  const size_t n = 3000;
  auto v = randomUnit(n, kDim, 12);
  IndexParams p{.space = SpaceKind::Int8, .dim = kDim, .initialCapacity = 16, .flatLimit = 0};
  VectorIndex idx(p);
  for (size_t i = 0; i < n; ++i) idx.add(i + 1, &v[i * kDim]);
  ASSERT_EQ(idx.capacity(), 4096u);  // doubled from 16
  auto bytes = idx.snapshot();
  auto copy = VectorIndex::fromSnapshot(bytes.data(), bytes.size());
  EXPECT_EQ(copy->capacity(), VectorIndex::roomFor(n)) << "loaded for its elements and 1/16 more";
  EXPECT_EQ(copy->snapshot(), bytes) << "and writes the same bytes again";
  // The headroom takes the next puts without a copy of the level-0 block.
  for (size_t i = 0; i < 500; ++i) copy->add(n + i + 1, &v[i * kDim]);
  EXPECT_EQ(copy->capacity(), VectorIndex::roomFor(n));
  EXPECT_EQ(copy->search(&v[1000 * kDim], 1)[0].label, 1001u);  // (the 500 added are copies of the first 500)
}

TEST(Memory, ACacheSnapshotLoadsEachGraphForTheEntriesItHolds) {
  const size_t n = 5000;
  auto v = randomUnit(n, kDim, 13);
  CacheConfig cfg = int8Config();
  Cache c(cfg);
  fill(c, v, 0, n);
  ASSERT_EQ(c.memory().index.slots, 8192u);  // doubled from 2048 at the promotion
  auto bytes = c.snapshot(7);
  Cache back(cfg);
  SnapshotLoader loader(back, bytes.size());
  loader.push(bytes.data(), bytes.size());
  EXPECT_EQ(loader.finish(), 7u);
  EXPECT_EQ(back.memory().index.slots, VectorIndex::roomFor(n));
  EXPECT_LT(back.memory().total(), c.memory().total());
  EXPECT_EQ(back.snapshot(7), bytes) << "the loaded cache writes the same snapshot";
  EXPECT_EQ(back.lookup("", &v[42 * kDim], kDim, 1e9, {}).id, 43u);
}
