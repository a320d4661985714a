#pragma once
// An HNSW index (hnswlib) over unit vectors, searched by inner product = cosine.
// Labels are the caller's ids. Removal tombstones a slot that the next add reuses; the index
// doubles its capacity when full. Snapshots are plain bytes: magic, version, parameters, the
// graph, and an XXH64 checksum; loading validates all of it before trusting a single offset.
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "index/spaces.h"

namespace hnswlib {
template <typename dist_t> class HierarchicalNSW;
}

namespace semcache {

struct IndexParams {
  SpaceKind space = SpaceKind::F32;
  uint32_t dim = 0;
  uint32_t M = 16;                  // graph degree (level 0 uses 2M)
  uint32_t efConstruction = 200;    // candidate list while inserting: build time vs recall
  uint32_t efSearch = 64;           // candidate list while searching (raised to k when smaller)
  uint32_t seed = 100;              // level generator seed: same inserts give the same graph
  uint32_t initialCapacity = 1024;  // grows by doubling
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
  // Best first. ef = 0 uses params().efSearch.
  std::vector<IndexHit> search(const float* query, size_t k, size_t ef = 0);
  // Brute force over live points: the exact answer, for tests and baselines.
  std::vector<IndexHit> exactSearch(const float* query, size_t k) const;
  // Decoded copy of a stored vector (quantized in the int8 space).
  std::vector<float> vector(uint64_t label) const;

  void setEfSearch(uint32_t ef);
  const IndexParams& params() const { return params_; }
  size_t size() const;      // live points
  size_t capacity() const;  // slots allocated
  size_t pointBytes() const { return pointBytes_; }

  void write(ByteWriter& out) const;                          // framed by the caller
  static std::unique_ptr<VectorIndex> read(ByteReader& in);   // validates the graph

  // Standalone snapshot: "SMIX", version, payload, xxh64.
  std::vector<uint8_t> snapshot() const;
  static std::unique_ptr<VectorIndex> fromSnapshot(const uint8_t* data, size_t size);

 private:
  IndexParams params_;
  std::unique_ptr<VectorSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
  size_t pointBytes_;
  std::vector<uint8_t> scratch_;  // an encoded point being inserted
  std::vector<uint8_t> query_;    // an encoded query
};

}  // namespace semcache
