#pragma once
// A vector index over unit vectors, searched by inner product = cosine. Small indexes are flat
// (an exact scan with the same SIMD kernels: faster than a graph below ~1k points, and free of
// hnswlib's fixed per-index cost of 64k mutexes, which matters with thousands of scopes); past
// `flatLimit` points the index promotes itself to HNSW (hnswlib).
// Labels are the caller's ids. Removal tombstones a slot that the next add reuses; the index
// grows when full. Snapshots are plain bytes: magic, version, parameters, the hnswlib version
// and label width the graph was laid out with (see hnswlib_compat.h), the points or the graph,
// and an XXH64 checksum; loading validates all of it before trusting a single offset.
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/memory.h"
#include "index/spaces.h"

namespace hnswlib {
template <typename dist_t> class HierarchicalNSW;
}

namespace semcache {

struct IndexParams {
  SpaceKind space = SpaceKind::F32;
  uint32_t dim = 0;
  uint32_t M = 16;                  // graph degree (level 0 uses 2M)
  // Candidate list while inserting: build time vs recall. 200, not hnswlib's usual 100: on real
  // sentence embeddings (300k, 1,000 new queries, native) recall@1 at efSearch 40 is 0.952
  // against 0.937, as good as M 24 (0.952) without its memory, for inserts ~1.5x as long; 400
  // adds nothing at ef 40 (0.946). docs/benchmarks.md, "efConstruction 200".
  uint32_t efConstruction = 200;
  uint32_t efSearch = 0;            // candidate list while searching (raised to k); 0: autoEfSearch(size)
  uint32_t seed = 100;              // level generator seed: same inserts give the same graph
  uint32_t initialCapacity = 1024;  // HNSW slots at first; grows by doubling, then by eighths
  uint32_t flatLimit = 1024;        // exact scan up to this many points, then HNSW (0: HNSW always)
};

struct IndexHit {
  uint64_t label;
  float similarity;  // cosine in [-1, 1] (approximate by ~1e-3 in the int8 space)
};

class VectorIndex {
 public:
  explicit VectorIndex(const IndexParams& params);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // v: dim floats, already unit length (the cache validates and normalizes).
  void add(uint64_t label, const float* v);
  void remove(uint64_t label);  // NOT_FOUND if absent
  bool contains(uint64_t label) const;
  // Best first. ef = 0 uses params().efSearch. Two level-0 loops give the same hits: hnswlib's
  // searchKnn (the native default: it prefetches with SSE) and our own (the wasm default: it
  // overlaps cache misses without prefetch instructions); tests compare them.
  enum class Loop { Default, Hnswlib, Own };
  std::vector<IndexHit> search(const float* query, size_t k, size_t ef = 0, Loop loop = Loop::Default);
  // Brute force over live points: the exact answer, for tests and baselines.
  std::vector<IndexHit> exactSearch(const float* query, size_t k) const;
  // Decoded copy of a stored vector (quantized in the int8 space).
  std::vector<float> vector(uint64_t label) const;

  void setEfSearch(uint32_t ef);  // 0: autoEfSearch(size())
  // The candidate list of a search when efSearch is 0: 40 up to 100k points, then growing as
  // 40 (n / 100k)^0.7 (200 at 1M), at most 512. Why: on the scale bench (512-d int8, 1,000
  // clusters), a stored near-duplicate (cosine 0.95) is found by ef 40 for every query at 100k
  // but for 83% at 1M (94% at ef 100, 97.5% at ef 200), while a search at ef 200 still costs
  // ~0.5 ms against an embedding's 3-8 ms.
  static uint32_t autoEfSearch(size_t points);
  uint32_t efSearch() const { return params_.efSearch ? params_.efSearch : autoEfSearch(size()); }
  const IndexParams& params() const { return params_; }
  size_t size() const;      // live points
  size_t capacity() const;  // slots allocated
  // A graph's capacity when it is full: doubled while small, then an eighth more (a step of a
  // big index copies its whole level-0 block: old and new are both held meanwhile).
  static uint64_t grownCapacity(uint64_t capacity);
  // The capacity a snapshot of n elements is loaded with (and records): n and 1/16 of headroom
  // for the session's puts, not the capacity the index had grown to (up to 2x n).
  static uint64_t roomFor(uint64_t n);
  bool isGraph() const { return hnsw_ != nullptr; }
  size_t pointBytes() const { return pointBytes_; }
  IndexMemory memory() const;  // heap held, by part (common/memory.h)

  // Serialized as units (ByteWriter::beginUnit): a head (parameters, the hnswlib version and
  // label width, mode, capacity), then the flat points, or the graph's level-0 records and upper
  // link lists by ranges of element ids and its state (count, top level, entry point). A cache
  // snapshot writes these in slices while the index keeps changing and rewrites what changed
  // (cache/snapshot.h); loading applies units in order, the last one for an element wins.
  enum UnitKind : uint8_t { kHeadUnit = 1, kFlatUnit = 2, kRecordsUnit = 3, kLinksUnit = 4, kStateUnit = 5 };
  void writeHead(ByteWriter& w) const;
  void writeFlat(ByteWriter& w) const;
  void writeRecords(ByteWriter& w, uint32_t first, uint32_t count) const;
  void writeLinks(ByteWriter& w, uint32_t first, uint32_t count) const;
  void writeState(ByteWriter& w) const;
  uint32_t elementCount() const;  // graph element ids in use (tombstones included); 0 when flat
  size_t recordBytes() const;     // one level-0 record (links, point, label); 0 when flat
  size_t linkBytes(uint32_t id) const;  // element id's upper link lists
  void write(ByteWriter& w) const;  // every unit
  // A head unit's payload makes an empty index of its shape; loadUnit applies the others;
  // finishLoad validates the whole before anyone searches it (CORRUPT_SNAPSHOT otherwise).
  // snapshotBytes: the size of the whole snapshot, which bounds what may be allocated before
  // its checksum is known.
  // elementsHint (0: none): about how many elements the units will bring (a cache snapshot's
  // entry count); the graph is allocated for roomFor(it) if the head records more.
  static std::unique_ptr<VectorIndex> fromHead(ByteReader& head, uint64_t snapshotBytes, uint64_t elementsHint = 0);
  void loadUnit(uint8_t kind, ByteReader& r);
  void finishLoad();

  // Standalone snapshot: "SMIX", version, payload length, units, xxh64.
  std::vector<uint8_t> snapshot() const;
  static std::unique_ptr<VectorIndex> fromSnapshot(const uint8_t* data, size_t size);

  // What changed since trackChanges(true): graph element ids whose record or link lists were
  // written (a new element and every neighbour whose list it joined), or `all` (a flat index,
  // or promoted to a graph meanwhile). While tracking, adds take new slots instead of reusing
  // tombstones, so that no existing element changes its label.
  struct Changes {
    bool all = false;
    std::vector<uint32_t> ids;
  };
  void trackChanges(bool on);
  Changes takeChanges();

 private:
  IndexParams params_;
  std::unique_ptr<VectorSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;  // null while flat
  size_t pointBytes_;
  // Flat mode: slot-major points, their labels and liveness, free slots, label -> slot.
  std::vector<uint8_t> flatPoints_;
  std::vector<uint64_t> flatLabels_;
  std::vector<uint8_t> flatLive_;
  std::vector<uint32_t> flatFree_;
  std::unordered_map<uint64_t, uint32_t> flatSlot_;

  void makeGraph(size_t capacity);
  void promote();
  std::vector<IndexHit> scan(const uint8_t* query, size_t k) const;
  std::vector<IndexHit> graphSearch(const uint8_t* query, size_t k, size_t ef) const;
  static constexpr size_t kTouchBytes = 64;  // per neighbour, before scoring (graphSearch)
  mutable uint32_t touchSink_ = 0;          // keeps the touching loads alive
  std::vector<uint8_t> scratch_;  // an encoded point being inserted
  std::vector<uint8_t> query_;    // an encoded query
  bool tracking_ = false;
  Changes changes_;
  void noteLinks(uint32_t id);   // id and the neighbours in its lists, into changes_
  struct Loading {  // what a load has seen so far (index_snapshot.cpp)
    std::vector<uint8_t> seen;  // per element: bit 0 its level-0 record, bit 1 its upper lists
    bool state = false;
    uint64_t capacity = 0, count = 0;
    int32_t maxLevel = -1;
    uint32_t entry = 0;
  };
  std::unique_ptr<Loading> loading_;
};

}  // namespace semcache
