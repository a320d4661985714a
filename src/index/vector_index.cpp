#include "index/vector_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <utility>

#include "common/error.h"

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

using Hnsw = hnswlib::HierarchicalNSW<float>;

void checkParams(const IndexParams& p) {
  if (p.M < 2 || p.M > 256) throw Error(codes::kInvalidArgument, "index M must be in 2..256, got " + std::to_string(p.M));
  if (p.efConstruction < 1) throw Error(codes::kInvalidArgument, "efConstruction must be >= 1");
  if (p.initialCapacity < 1) throw Error(codes::kInvalidArgument, "initialCapacity must be >= 1");
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


size_t VectorIndex::size() const {
  return hnsw_ ? hnsw_->cur_element_count - hnsw_->num_deleted_ : flatSlot_.size();
}
uint64_t VectorIndex::grownCapacity(uint64_t capacity) {
  if (capacity < (1u << 16)) return std::max<uint64_t>(capacity * 2, 16);
  return (capacity + capacity / 8 + 1023) / 1024 * 1024;
}

uint64_t VectorIndex::roomFor(uint64_t n) { return n + std::max<uint64_t>(1024, n / 16); }

size_t VectorIndex::capacity() const { return hnsw_ ? hnsw_->max_elements_ : flatLabels_.size(); }

void VectorIndex::setEfSearch(uint32_t ef) { params_.efSearch = ef; }

uint32_t VectorIndex::autoEfSearch(size_t points) {
  if (points <= 100000) return 40;
  return uint32_t(std::min(512.0, std::round(40 * std::pow(points / 1e5, 0.7))));
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
      if (tracking_) changes_.all = true;
      return;
    }
    promote();
    if (tracking_) changes_.all = true;
  }
  auto found = hnsw_->label_lookup_.find(label);
  if (found != hnsw_->label_lookup_.end()) {
    if (!hnsw_->isMarkedDeleted(found->second))
      throw Error(codes::kInvalidArgument, "label " + std::to_string(label) + " is already in the index");
    // Removed and added again (a row replayed over its snapshot copy): hnswlib keeps the label on
    // its tombstone, so revive that slot with the new vector instead of adding a second one.
    space_->encode(v, scratch_.data());
    if (tracking_) noteLinks(found->second);  // updatePoint rewrites its old neighbours' lists
    hnsw_->unmarkDelete(label);
    hnsw_->updatePoint(scratch_.data(), found->second, 1.0f);
    if (tracking_) noteLinks(found->second);  // ... and joins its new ones
    return;
  }
  // Reuse a tombstoned slot when there is one; otherwise make room first (hnswlib throws when full).
  const bool reuse = !tracking_ && !hnsw_->deleted_elements.empty();
  if (!reuse && hnsw_->cur_element_count >= hnsw_->max_elements_)
    hnsw_->resizeIndex(grownCapacity(hnsw_->max_elements_));
  space_->encode(v, scratch_.data());
  hnsw_->addPoint(scratch_.data(), label, reuse);
  // A new element's lists name exactly the neighbours whose lists it joined (mutuallyConnectNewElement).
  if (tracking_) noteLinks(hnsw_->label_lookup_.at(label));
}

void VectorIndex::noteLinks(uint32_t id) {
  auto& out = changes_.ids;
  out.push_back(id);
  for (int level = 0; level <= hnsw_->element_levels_[id]; ++level) {
    const unsigned* list = hnsw_->get_linklist_at_level(id, level);
    const size_t n = hnsw_->getListCount(const_cast<unsigned*>(list));
    out.insert(out.end(), list + 1, list + 1 + n);
  }
}

void VectorIndex::trackChanges(bool on) {
  tracking_ = on;
  changes_ = {};
}

VectorIndex::Changes VectorIndex::takeChanges() { return std::exchange(changes_, {}); }

void VectorIndex::remove(uint64_t label) {
  if (!contains(label)) throw Error(codes::kNotFound, "label " + std::to_string(label) + " is not in the index");
  if (!hnsw_) {
    uint32_t slot = flatSlot_.at(label);
    flatSlot_.erase(label);
    flatLive_[slot] = 0;
    flatFree_.push_back(slot);
    if (tracking_) changes_.all = true;
    return;
  }
  hnsw_->markDelete(label);
  if (tracking_) changes_.ids.push_back(hnsw_->label_lookup_.at(label));
}

std::vector<IndexHit> VectorIndex::search(const float* query, size_t k, size_t ef, Loop loop) {
  std::vector<IndexHit> out;
  if (k == 0 || size() == 0) return out;
  space_->encodeQuery(query, query_.data());
  if (!hnsw_) return scan(query_.data(), k);
  if (loop == Loop::Default) loop = SEMCACHE_GRAPH_SEARCH ? Loop::Own : Loop::Hnswlib;
  ef = std::max<size_t>(ef ? ef : efSearch(), k);
  if (loop == Loop::Own) return graphSearch(query_.data(), k, ef);
  hnsw_->setEf(ef);  // hnswlib reads it from the index: set per search
  auto heap = hnsw_->searchKnn(query_.data(), k);
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

IndexMemory VectorIndex::memory() const {
  IndexMemory m;
  if (!hnsw_) {
    m.flat = allocBytes(flatPoints_.capacity()) + allocBytes(flatLabels_.capacity() * 8) + allocBytes(flatLive_.capacity()) +
             allocBytes(flatFree_.capacity() * 4) + mapBytes(flatSlot_);
    return m;
  }
  const Hnsw& h = *hnsw_;
  m.slots = h.max_elements_;
  m.elements = h.cur_element_count;
  m.records = allocBytes(h.max_elements_ * h.size_data_per_element_);
  m.slotArrays = allocBytes(h.link_list_locks_.capacity() * sizeof(std::mutex)) +
                 allocBytes(h.element_levels_.capacity() * sizeof(int)) + allocBytes(h.max_elements_ * sizeof(void*)) +
                 allocBytes(h.max_elements_ * sizeof(hnswlib::vl_type));
  for (size_t i = 0; i < h.cur_element_count; ++i)
    if (h.element_levels_[i] > 0) m.upperLinks += allocBytes(h.size_links_per_element_ * size_t(h.element_levels_[i]));
  m.labels = mapBytes(h.label_lookup_) + h.deleted_elements.size() * allocBytes(3 * sizeof(void*));
  m.fixed = allocBytes(h.label_op_locks_.capacity() * sizeof(std::mutex));
  return m;
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

}  // namespace semcache
