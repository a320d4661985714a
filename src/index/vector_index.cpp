#include "index/vector_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <queue>

#include "common/error.h"
#include "common/frame.h"
#include "index/hnswlib_compat.h"

// Our own level-0 search loop (graphSearch) in wasm; natively hnswlib's searchKnn, whose
// prefetching and AVX-512 kernels are the reference the wasm build is measured against.
#ifndef SEMCACHE_GRAPH_SEARCH
#if defined(__wasm__)
#define SEMCACHE_GRAPH_SEARCH 1
#else
#define SEMCACHE_GRAPH_SEARCH 0
#endif
#endif

namespace semcache {
namespace {

constexpr uint32_t kIndexMagic = fourcc("SMIX");
constexpr uint32_t kIndexVersion = 3;  // 2: flat mode; 3: hnswlib version and label width
using Hnsw = hnswlib::HierarchicalNSW<float>;

void checkParams(const IndexParams& p) {
  if (p.M < 2 || p.M > 256) throw Error(codes::kInvalidArgument, "index M must be in 2..256, got " + std::to_string(p.M));
  if (p.efConstruction < 1 || p.efSearch < 1)
    throw Error(codes::kInvalidArgument, "efConstruction and efSearch must be >= 1");
  if (p.initialCapacity < 1) throw Error(codes::kInvalidArgument, "initialCapacity must be >= 1");
}

std::string versionName(uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(codes::kCorruptSnapshot, "index snapshot is inconsistent: " + what);
}

}  // namespace

VectorIndex::VectorIndex(const IndexParams& params) : params_(params) {
  checkParams(params_);
  space_ = makeSpace(params_.space, params_.dim);
  pointBytes_ = space_->get_data_size();
  scratch_.resize(pointBytes_);
  query_.resize(space_->queryBytes());
  if (params_.flatLimit == 0) makeGraph(params_.initialCapacity);
}

void VectorIndex::makeGraph(size_t capacity) {
  hnsw_ = std::make_unique<Hnsw>(space_.get(), std::max<size_t>(capacity, 1), params_.M, params_.efConstruction,
                                 params_.seed, /*allow_replace_deleted=*/true);
  hnsw_->setEf(params_.efSearch);
}

// Flat -> HNSW, inserting the live points in slot order (deterministic).
void VectorIndex::promote() {
  makeGraph(std::max<size_t>(params_.initialCapacity, 2 * size_t(params_.flatLimit)));
  for (size_t slot = 0; slot < flatLabels_.size(); ++slot)
    if (flatLive_[slot]) hnsw_->addPoint(&flatPoints_[slot * pointBytes_], flatLabels_[slot]);
  flatPoints_ = {};
  flatLabels_ = {};
  flatLive_ = {};
  flatFree_ = {};
  flatSlot_ = {};
}

VectorIndex::~VectorIndex() = default;

size_t VectorIndex::size() const {
  return hnsw_ ? hnsw_->cur_element_count - hnsw_->num_deleted_ : flatSlot_.size();
}
size_t VectorIndex::capacity() const { return hnsw_ ? hnsw_->max_elements_ : flatLabels_.size(); }

void VectorIndex::setEfSearch(uint32_t ef) {
  if (ef < 1) throw Error(codes::kInvalidArgument, "efSearch must be >= 1");
  params_.efSearch = ef;
  if (hnsw_) hnsw_->setEf(ef);
}

bool VectorIndex::contains(uint64_t label) const {
  if (!hnsw_) return flatSlot_.count(label) > 0;
  auto it = hnsw_->label_lookup_.find(label);
  return it != hnsw_->label_lookup_.end() && !hnsw_->isMarkedDeleted(it->second);
}

void VectorIndex::add(uint64_t label, const float* v) {
  if (!hnsw_) {
    if (flatSlot_.count(label))
      throw Error(codes::kInvalidArgument, "label " + std::to_string(label) + " is already in the index");
    if (flatSlot_.size() < params_.flatLimit) {
      uint32_t slot;
      if (!flatFree_.empty()) {
        slot = flatFree_.back();
        flatFree_.pop_back();
      } else {
        slot = uint32_t(flatLabels_.size());
        flatLabels_.push_back(0);
        flatLive_.push_back(0);
        flatPoints_.resize(flatPoints_.size() + pointBytes_);
      }
      space_->encode(v, &flatPoints_[size_t(slot) * pointBytes_]);
      flatLabels_[slot] = label;
      flatLive_[slot] = 1;
      flatSlot_[label] = slot;
      return;
    }
    promote();
  }
  auto found = hnsw_->label_lookup_.find(label);
  if (found != hnsw_->label_lookup_.end()) {
    if (!hnsw_->isMarkedDeleted(found->second))
      throw Error(codes::kInvalidArgument, "label " + std::to_string(label) + " is already in the index");
    // Removed and added again (a row replayed over its snapshot copy): hnswlib keeps the label on
    // its tombstone, so revive that slot with the new vector instead of adding a second one.
    space_->encode(v, scratch_.data());
    hnsw_->unmarkDelete(label);
    hnsw_->updatePoint(scratch_.data(), found->second, 1.0f);
    return;
  }
  // Reuse a tombstoned slot when there is one; otherwise make room first (hnswlib throws when full).
  if (hnsw_->deleted_elements.empty() && hnsw_->cur_element_count >= hnsw_->max_elements_)
    hnsw_->resizeIndex(std::max<size_t>(hnsw_->max_elements_ * 2, 16));
  space_->encode(v, scratch_.data());
  hnsw_->addPoint(scratch_.data(), label, /*replace_deleted=*/true);
}

void VectorIndex::remove(uint64_t label) {
  if (!contains(label)) throw Error(codes::kNotFound, "label " + std::to_string(label) + " is not in the index");
  if (!hnsw_) {
    uint32_t slot = flatSlot_.at(label);
    flatSlot_.erase(label);
    flatLive_[slot] = 0;
    flatFree_.push_back(slot);
    return;
  }
  hnsw_->markDelete(label);
}

std::vector<IndexHit> VectorIndex::search(const float* query, size_t k, size_t ef, Loop loop) {
  std::vector<IndexHit> out;
  if (k == 0 || size() == 0) return out;
  space_->encodeQuery(query, query_.data());
  if (!hnsw_) return scan(query_.data(), k);
  if (loop == Loop::Default) loop = SEMCACHE_GRAPH_SEARCH ? Loop::Own : Loop::Hnswlib;
  if (loop == Loop::Own) return graphSearch(query_.data(), k, std::max<size_t>(ef ? ef : params_.efSearch, k));
  hnsw_->setEf(std::max<size_t>(ef ? ef : params_.efSearch, k));
  auto heap = hnsw_->searchKnn(query_.data(), k);
  hnsw_->setEf(params_.efSearch);
  out.resize(heap.size());
  for (size_t i = heap.size(); i-- > 0; heap.pop())  // the heap pops the farthest first
    out[i] = {heap.top().second, 1.f - heap.top().first};
  return out;
}


// hnswlib's searchKnn (greedy descent through the upper levels, then searchBaseLayerST on level
// 0) over hnswlib's own data, with the same visiting order, the same stop rule and the same
// tie-breaking, so it returns what searchKnn returns. What differs is how a node's neighbours
// are scored: natively hnswlib issues _mm_prefetch for the next neighbour while scoring the
// current one; wasm has no prefetch, so this loop first collects the node's unvisited
// neighbours, touches the first cache lines of all of them (plain loads: the misses overlap
// instead of arriving one after another), then scores them together (two or four streams in
// flight; see VectorSpace::distances).
std::vector<IndexHit> VectorIndex::graphSearch(const uint8_t* query, size_t k, size_t ef) const {
  using hnswlib::tableint;
  using Pair = std::pair<float, tableint>;
  using Heap = std::priority_queue<Pair, std::vector<Pair>, Hnsw::CompareByFirst>;
  const Hnsw& h = *hnsw_;
  const size_t maxLinks = std::max(h.maxM0_, h.maxM_);
  // one node's neighbours at a time; per thread, so a search allocates nothing once warm
  thread_local std::vector<const char*> pointBuf;
  thread_local std::vector<tableint> idBuf;
  thread_local std::vector<float> distBuf;
  if (pointBuf.size() < maxLinks) pointBuf.resize(maxLinks), idBuf.resize(maxLinks), distBuf.resize(maxLinks);
  const char** points = pointBuf.data();
  tableint* ids = idBuf.data();
  float* dists = distBuf.data();
  const size_t lineSpan = std::min<size_t>(pointBytes_, kTouchBytes);
  uint32_t sink = 0;
  auto touch = [&](const char* p) {
    for (size_t off = 0; off < lineSpan; off += 64) sink += *reinterpret_cast<const volatile uint8_t*>(p + off);
  };

  tableint cur = h.enterpoint_node_;
  float curDist = h.fstdistfunc_(query, h.getDataByInternalId(cur), h.dist_func_param_);
  for (int level = h.maxlevel_; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      unsigned* list = h.get_linklist(cur, level);
      size_t n = h.getListCount(list);
      const tableint* links = list + 1;
      for (size_t j = 0; j < n; ++j) touch(points[j] = h.getDataByInternalId(links[j]));
      space_->distances(query, points, n, dists);
      for (size_t j = 0; j < n; ++j) {
        if (dists[j] < curDist) {
          curDist = dists[j];
          cur = links[j];
          changed = true;
        }
      }
    }
  }

  const bool bare = h.num_deleted_ == 0;  // hnswlib's bare_bone_search
  hnswlib::VisitedList* vl = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  Heap top, candidates;
  float lowerBound;
  if (bare || !h.isMarkedDeleted(cur)) {
    float d = h.fstdistfunc_(query, h.getDataByInternalId(cur), h.dist_func_param_);
    lowerBound = d;
    top.emplace(d, cur);
    candidates.emplace(-d, cur);
  } else {
    lowerBound = std::numeric_limits<float>::max();
    candidates.emplace(-lowerBound, cur);
  }
  visited[cur] = tag;
  while (!candidates.empty()) {
    Pair c = candidates.top();
    if (-c.first > lowerBound && (bare || top.size() == ef)) break;
    candidates.pop();
    unsigned* list = h.get_linklist0(c.second);
    size_t size = h.getListCount(list);
    size_t n = 0;
    for (size_t j = 1; j <= size; ++j) {
      tableint id = list[j];
      if (visited[id] == tag) continue;
      visited[id] = tag;
      ids[n] = id;
      touch(points[n] = h.getDataByInternalId(id));
      ++n;
    }
    space_->distances(query, points, n, dists);
    for (size_t j = 0; j < n; ++j) {
      float d = dists[j];
      if (top.size() < ef || lowerBound > d) {
        candidates.emplace(-d, ids[j]);
        if (bare || !h.isMarkedDeleted(ids[j])) top.emplace(d, ids[j]);
        while (top.size() > ef) top.pop();
        if (!top.empty()) lowerBound = top.top().first;
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(vl);
  touchSink_ += sink;

  while (top.size() > k) top.pop();
  std::vector<IndexHit> out(top.size());
  for (size_t i = top.size(); i-- > 0; top.pop()) out[i] = {h.getExternalLabel(top.top().second), 1.f - top.top().first};
  return out;
}

std::vector<IndexHit> VectorIndex::exactSearch(const float* query, size_t k) const {
  std::vector<uint8_t> q(space_->queryBytes());
  space_->encodeQuery(query, q.data());
  return scan(q.data(), k);
}

// Exact top-k over live points. Ties break by label so that results are reproducible.
std::vector<IndexHit> VectorIndex::scan(const uint8_t* query, size_t k) const {
  auto dist = space_->get_dist_func();
  void* param = space_->get_dist_func_param();
  std::vector<IndexHit> all;
  all.reserve(size());
  if (hnsw_) {
    for (size_t i = 0; i < hnsw_->cur_element_count; ++i)
      if (!hnsw_->isMarkedDeleted(i))
        all.push_back({hnsw_->getExternalLabel(i), 1.f - dist(query, hnsw_->getDataByInternalId(i), param)});
  } else {
    for (size_t slot = 0; slot < flatLabels_.size(); ++slot)
      if (flatLive_[slot]) all.push_back({flatLabels_[slot], 1.f - dist(query, &flatPoints_[slot * pointBytes_], param)});
  }
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const IndexHit& a, const IndexHit& b) {
    return a.similarity > b.similarity || (a.similarity == b.similarity && a.label < b.label);
  });
  all.resize(k);
  return all;
}

std::vector<float> VectorIndex::vector(uint64_t label) const {
  std::vector<float> v(params_.dim);
  if (!hnsw_) {
    auto f = flatSlot_.find(label);
    if (f == flatSlot_.end()) throw Error(codes::kNotFound, "label " + std::to_string(label) + " is not in the index");
    space_->decode(&flatPoints_[size_t(f->second) * pointBytes_], v.data());
    return v;
  }
  auto it = hnsw_->label_lookup_.find(label);
  if (it == hnsw_->label_lookup_.end() || hnsw_->isMarkedDeleted(it->second))
    throw Error(codes::kNotFound, "label " + std::to_string(label) + " is not in the index");
  space_->decode(hnsw_->getDataByInternalId(it->second), v.data());
  return v;
}

// Payload: params, then hnswlib's own state in the order its saveIndex uses, with our sizes.
void VectorIndex::write(ByteWriter& w) const {
  w.pod(static_cast<uint32_t>(params_.space));
  w.pod(params_.dim);
  w.pod(params_.M);
  w.pod(params_.efConstruction);
  w.pod(params_.efSearch);
  w.pod(params_.seed);
  w.pod(params_.flatLimit);
  w.pod(uint8_t(hnsw_ ? 1 : 0));
  w.pod(hnsw_compat::kVersion);
  w.pod(hnsw_compat::kLabelBytes);
  if (!hnsw_) {  // live points only: label + encoded point
    w.reserve(w.size() + 8 + size() * (8 + pointBytes_));
    w.pod(static_cast<uint64_t>(size()));
    for (size_t slot = 0; slot < flatLabels_.size(); ++slot) {
      if (!flatLive_[slot]) continue;
      w.pod(flatLabels_[slot]);
      w.raw(&flatPoints_[slot * pointBytes_], pointBytes_);
    }
    return;
  }
  const Hnsw& h = *hnsw_;
  size_t n = h.cur_element_count;
  w.reserve(w.size() + 96 + n * h.size_data_per_element_ + n * 8);
  w.pod(static_cast<uint64_t>(h.max_elements_));
  w.pod(static_cast<uint64_t>(n));
  w.pod(static_cast<int32_t>(h.maxlevel_));
  w.pod(static_cast<uint32_t>(h.enterpoint_node_));
  w.raw(h.data_level0_memory_, n * h.size_data_per_element_);
  for (size_t i = 0; i < n; ++i) {
    uint32_t bytes = h.element_levels_[i] > 0 ? uint32_t(h.size_links_per_element_ * h.element_levels_[i]) : 0;
    w.pod(bytes);
    if (bytes) w.raw(h.linkLists_[i], bytes);
  }
}

std::unique_ptr<VectorIndex> VectorIndex::read(ByteReader& r) {
  IndexParams p;
  uint32_t space = r.pod<uint32_t>("space");
  if (space != uint32_t(SpaceKind::F32) && space != uint32_t(SpaceKind::Int8)) corrupt("unknown space " + std::to_string(space));
  p.space = SpaceKind(space);
  p.dim = r.pod<uint32_t>("dim");
  p.M = r.pod<uint32_t>("M");
  p.efConstruction = r.pod<uint32_t>("efConstruction");
  p.efSearch = r.pod<uint32_t>("efSearch");
  p.seed = r.pod<uint32_t>("seed");
  p.flatLimit = r.pod<uint32_t>("flat limit");
  uint8_t graph = r.pod<uint8_t>("mode");
  if (graph > 1) corrupt("unknown mode " + std::to_string(graph));
  uint32_t hnswVersion = r.pod<uint32_t>("hnswlib version");
  uint32_t labelBytes = r.pod<uint32_t>("label width");
  // A graph is hnswlib's memory as it was (see hnswlib_compat.h); a flat index holds only u64
  // labels and encoded points, which any build reads.
  if (graph && hnswVersion != hnsw_compat::kVersion)
    throw Error(codes::kUnsupportedVersion, "index snapshot holds a graph in hnswlib " + versionName(hnswVersion) +
                                                "'s layout, this build uses hnswlib " + versionName(hnsw_compat::kVersion));
  if (graph && labelBytes != hnsw_compat::kLabelBytes)
    throw Error(codes::kSnapshotMismatch, "index snapshot was written by a build with " + std::to_string(labelBytes) +
                                              "-byte labels, this build has " + std::to_string(hnsw_compat::kLabelBytes) +
                                              "-byte labels (a native snapshot in wasm, or the reverse)");
  if (p.dim == 0 || p.dim > 65536) corrupt("dim " + std::to_string(p.dim));
  try {
    checkParams(p);
  } catch (const Error& e) {
    corrupt(e.what());
  }
  if (!graph) {
    uint64_t n = r.pod<uint64_t>("count");
    auto idx = std::make_unique<VectorIndex>(p);
    if (n > p.flatLimit || n > r.remaining() / (8 + idx->pointBytes_)) corrupt("flat count " + std::to_string(n));
    idx->flatPoints_.resize(n * idx->pointBytes_);
    idx->flatLabels_.resize(n);
    idx->flatLive_.assign(n, 1);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t label = r.pod<uint64_t>("label");
      if (!idx->flatSlot_.emplace(label, uint32_t(i)).second) corrupt("label " + std::to_string(label) + " twice");
      idx->flatLabels_[i] = label;
      std::memcpy(&idx->flatPoints_[i * idx->pointBytes_], r.take(idx->pointBytes_, "points"), idx->pointBytes_);
    }
    return idx;
  }
  uint64_t maxElements = r.pod<uint64_t>("capacity");
  uint64_t n = r.pod<uint64_t>("count");
  int32_t maxLevel = r.pod<int32_t>("max level");
  uint32_t entry = r.pod<uint32_t>("entry point");
  if (n > maxElements || maxElements > (uint64_t(1) << 31)) corrupt("count " + std::to_string(n) + " > capacity");
  p.initialCapacity = uint32_t(std::max<uint64_t>(maxElements, 1));
  auto idx = std::make_unique<VectorIndex>(p);
  idx->makeGraph(p.initialCapacity);
  Hnsw& h = *idx->hnsw_;
  const size_t rec = h.size_data_per_element_;
  if (r.remaining() < n * rec) corrupt("level-0 data truncated");
  std::memcpy(h.data_level0_memory_, r.take(n * rec, "level-0 data"), n * rec);
  h.cur_element_count = n;
  if (n == 0) {
    if (maxLevel != -1) corrupt("empty graph with a max level");
  } else if (entry >= n || maxLevel < 0 || maxLevel > 64) {
    corrupt("entry point " + std::to_string(entry) + " / max level " + std::to_string(maxLevel));
  }
  h.maxlevel_ = maxLevel;
  h.enterpoint_node_ = n ? entry : -1;
  // Every neighbour id must name an existing element, or a search would read out of bounds.
  auto checkList = [&](const unsigned int* list, size_t maxCount, size_t i) {
    size_t cnt = h.getListCount(const_cast<unsigned int*>(list));
    if (cnt > maxCount) corrupt("element " + std::to_string(i) + " has " + std::to_string(cnt) + " links");
    const auto* ids = reinterpret_cast<const uint32_t*>(list + 1);
    for (size_t j = 0; j < cnt; ++j)
      if (ids[j] >= n) corrupt("element " + std::to_string(i) + " links to " + std::to_string(ids[j]));
  };
  for (size_t i = 0; i < n; ++i) {
    uint32_t bytes = r.pod<uint32_t>("link list size");
    if (bytes % h.size_links_per_element_ != 0) corrupt("link list size " + std::to_string(bytes));
    int level = int(bytes / h.size_links_per_element_);
    if (level > maxLevel) corrupt("element " + std::to_string(i) + " above the max level");
    h.element_levels_[i] = level;
    h.linkLists_[i] = nullptr;
    if (bytes) {
      h.linkLists_[i] = static_cast<char*>(malloc(bytes));
      if (!h.linkLists_[i]) throw std::bad_alloc();
      std::memcpy(h.linkLists_[i], r.take(bytes, "link lists"), bytes);
    }
    checkList(h.get_linklist0(i), h.maxM0_, i);
    for (int l = 1; l <= level; ++l) checkList(h.get_linklist(i, l), h.maxM_, i);
    uint64_t label = h.getExternalLabel(i);
    if (!h.label_lookup_.emplace(label, uint32_t(i)).second) corrupt("label " + std::to_string(label) + " twice");
    if (h.isMarkedDeleted(i)) {
      h.num_deleted_ += 1;
      h.deleted_elements.insert(uint32_t(i));
    }
  }
  if (n && h.element_levels_[entry] != maxLevel) corrupt("entry point is not on the top level");
  h.level_generator_.seed(p.seed + n);  // fresh levels for later inserts, still deterministic
  return idx;
}

std::vector<uint8_t> VectorIndex::snapshot() const {
  ByteWriter w;
  beginFrame(w, kIndexMagic, kIndexVersion);
  write(w);
  endFrame(w);
  return std::move(w.bytes());
}

std::unique_ptr<VectorIndex> VectorIndex::fromSnapshot(const uint8_t* data, size_t size) {
  ByteReader r = openFrame(data, size, kIndexMagic, kIndexVersion, "index snapshot");
  auto idx = read(r);
  if (r.remaining() != 0) corrupt(std::to_string(r.remaining()) + " trailing bytes");
  return idx;
}

}  // namespace semcache
