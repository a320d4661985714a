// VectorIndex serialization: the units of vector_index.h, the standalone "SMIX" snapshot, and
// the loader's validation. A graph's units hold hnswlib 0.8.0's memory as it is (see
// hnswlib_compat.h); loading trusts none of it until finishLoad() has checked every link.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/frame.h"
#include "index/hnswlib_compat.h"
#include "index/vector_index.h"

namespace semcache {
namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;
constexpr uint32_t kIndexMagic = fourcc("SMIX");
// 2: flat mode; 3: hnswlib version and label width; 4: units (slices, rewrites)
constexpr uint32_t kIndexVersion = 4;

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(codes::kCorruptSnapshot, "index snapshot is inconsistent: " + what);
}

// Grows a graph being loaded; the new link-list slots start empty (hnswlib leaves them unset).
void growForLoad(Hnsw& h, size_t capacity) {
  size_t old = h.max_elements_;
  h.resizeIndex(capacity);
  if (capacity > old) std::fill(h.linkLists_ + old, h.linkLists_ + capacity, nullptr);
}

// The capacity a snapshot records, for the reader to allocate: room for its elements, whatever
// the writer's graph had grown to (a function of the element count alone, so a loaded snapshot
// writes the same bytes again).
uint64_t loadCapacity(const Hnsw& h) { return VectorIndex::roomFor(h.cur_element_count); }

std::string versionName(uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

}  // namespace

VectorIndex::~VectorIndex() {
  if (loading_ && hnsw_) {  // a failed load: hnswlib frees link lists of elements below its count only
    for (size_t i = hnsw_->cur_element_count; i < loading_->seen.size(); ++i) free(hnsw_->linkLists_[i]);
  }
}

uint32_t VectorIndex::elementCount() const { return hnsw_ ? uint32_t(hnsw_->cur_element_count) : 0; }
size_t VectorIndex::recordBytes() const { return hnsw_ ? hnsw_->size_data_per_element_ : 0; }
size_t VectorIndex::linkBytes(uint32_t id) const {
  return hnsw_->element_levels_[id] > 0 ? hnsw_->size_links_per_element_ * size_t(hnsw_->element_levels_[id]) : 0;
}

void VectorIndex::writeHead(ByteWriter& w) const {
  size_t at = w.beginUnit(kHeadUnit);
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
  w.pod(hnsw_ ? loadCapacity(*hnsw_) : uint64_t(0));
  w.endUnit(at);
}

void VectorIndex::writeFlat(ByteWriter& w) const {  // live points only: label + encoded point
  size_t at = w.beginUnit(kFlatUnit);
  w.pod(static_cast<uint64_t>(size()));
  for (size_t slot = 0; slot < flatLabels_.size(); ++slot) {
    if (!flatLive_[slot]) continue;
    w.pod(flatLabels_[slot]);
    w.raw(&flatPoints_[slot * pointBytes_], pointBytes_);
  }
  w.endUnit(at);
}

void VectorIndex::writeRecords(ByteWriter& w, uint32_t first, uint32_t count) const {
  const size_t rec = hnsw_->size_data_per_element_;
  size_t at = w.beginUnit(kRecordsUnit);
  w.pod(first);
  w.pod(count);
  w.raw(hnsw_->data_level0_memory_ + size_t(first) * rec, size_t(count) * rec);
  w.endUnit(at);
}

void VectorIndex::writeLinks(ByteWriter& w, uint32_t first, uint32_t count) const {
  size_t at = w.beginUnit(kLinksUnit);
  w.pod(first);
  w.pod(count);
  for (uint32_t i = first; i < first + count; ++i) {
    uint32_t bytes = uint32_t(linkBytes(i));
    w.pod(bytes);
    if (bytes) w.raw(hnsw_->linkLists_[i], bytes);
  }
  w.endUnit(at);
}

void VectorIndex::writeState(ByteWriter& w) const {
  size_t at = w.beginUnit(kStateUnit);
  w.pod(loadCapacity(*hnsw_));
  w.pod(static_cast<uint64_t>(hnsw_->cur_element_count));
  w.pod(static_cast<int32_t>(hnsw_->maxlevel_));
  w.pod(static_cast<uint32_t>(hnsw_->enterpoint_node_));
  w.endUnit(at);
}

void VectorIndex::write(ByteWriter& w) const {
  writeHead(w);
  if (!hnsw_) return writeFlat(w);
  uint32_t n = elementCount();
  w.reserve(w.size() + 64 + size_t(n) * (recordBytes() + 4));
  writeRecords(w, 0, n);
  writeLinks(w, 0, n);
  writeState(w);
}

std::unique_ptr<VectorIndex> VectorIndex::fromHead(ByteReader& r, uint64_t snapshotBytes, uint64_t elementsHint) {
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
  uint32_t hnswVersion = r.pod<uint32_t>("hnswlib version");
  uint32_t labelBytes = r.pod<uint32_t>("label width");
  uint64_t capacity = r.pod<uint64_t>("capacity");
  if (r.remaining()) corrupt("a head of another length");
  if (graph > 1) corrupt("unknown mode " + std::to_string(graph));
  if (p.dim == 0 || p.dim > 65536) corrupt("dim " + std::to_string(p.dim));
  // A graph is hnswlib's memory as it was (see hnswlib_compat.h); a flat index holds only u64
  // labels and encoded points, which any build reads.
  if (graph && hnswVersion != hnsw_compat::kVersion)
    throw Error(codes::kUnsupportedVersion, "index snapshot holds a graph in hnswlib " + versionName(hnswVersion) +
                                                "'s layout, this build uses hnswlib " + versionName(hnsw_compat::kVersion));
  if (graph && labelBytes != hnsw_compat::kLabelBytes)
    throw Error(codes::kSnapshotMismatch, "index snapshot was written by a build with " + std::to_string(labelBytes) +
                                              "-byte labels, this build has " + std::to_string(hnsw_compat::kLabelBytes) +
                                              "-byte labels (a native snapshot in wasm, or the reverse)");
  if (graph && (capacity < 1 || capacity > (uint64_t(1) << 31))) corrupt("capacity " + std::to_string(capacity));
  p.initialCapacity = 1;
  std::unique_ptr<VectorIndex> idx;
  try {
    idx = std::make_unique<VectorIndex>(p);
  } catch (const Error& e) {
    corrupt(e.what());
  }
  if (!graph && idx->hnsw_) corrupt("a flat index with flat limit 0");
  if (graph) {
    if (!idx->hnsw_) idx->makeGraph(1);  // a graph stays one, whatever flatLimit says
    Hnsw& h = *idx->hnsw_;
    // Nothing is checksummed yet: allocate only what the snapshot's size can account for (a
    // graph of n elements has a capacity under 2n + the first 2 x flatLimit).
    if (capacity * h.size_data_per_element_ > 2 * snapshotBytes + (uint64_t(p.flatLimit) + 1024) * 2 * h.size_data_per_element_)
      corrupt("capacity " + std::to_string(capacity) + " in a snapshot of " + std::to_string(snapshotBytes) + " bytes");
    h.linkLists_[0] = nullptr;
    // Snapshots written before roomFor() record the capacity the graph had grown to.
    if (elementsHint) capacity = std::min<uint64_t>(capacity, roomFor(elementsHint));
    growForLoad(h, capacity);
  }
  idx->loading_ = std::make_unique<Loading>();
  return idx;
}

void VectorIndex::loadUnit(uint8_t kind, ByteReader& r) {
  if (!loading_) throw Error(codes::kInvalidArgument, "loadUnit outside a load");
  Loading& L = *loading_;
  if (kind == kFlatUnit) {
    if (hnsw_) corrupt("flat points for a graph");
    uint64_t n = r.pod<uint64_t>("count");
    if (n > params_.flatLimit || n != r.remaining() / (8 + pointBytes_) || r.remaining() % (8 + pointBytes_))
      corrupt("flat count " + std::to_string(n));
    flatPoints_.assign(n * pointBytes_, 0);
    flatLabels_.assign(n, 0);
    flatLive_.assign(n, 1);
    flatFree_.clear();
    flatSlot_.clear();
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t label = r.pod<uint64_t>("label");
      if (!flatSlot_.emplace(label, uint32_t(i)).second) corrupt("label " + std::to_string(label) + " twice");
      flatLabels_[i] = label;
      std::memcpy(&flatPoints_[i * pointBytes_], r.take(pointBytes_, "points"), pointBytes_);
    }
    return;
  }
  if (!hnsw_) corrupt("graph data for a flat index");
  Hnsw& h = *hnsw_;
  if (kind == kStateUnit) {
    L.capacity = r.pod<uint64_t>("capacity");
    L.count = r.pod<uint64_t>("count");
    L.maxLevel = r.pod<int32_t>("max level");
    L.entry = r.pod<uint32_t>("entry point");
    if (r.remaining() || L.capacity > (uint64_t(1) << 31) || L.count > L.capacity) corrupt("graph state");
    L.state = true;
    return;
  }
  if (kind != kRecordsUnit && kind != kLinksUnit) corrupt("unknown unit " + std::to_string(kind));
  uint32_t first = r.pod<uint32_t>("first element");
  uint32_t count = r.pod<uint32_t>("element count");
  uint64_t end = uint64_t(first) + count;
  // Past the capacity: elements added while the snapshot was written, a few at most.
  if (end > (uint64_t(1) << 31) || end > 2 * h.max_elements_ + 1024) corrupt("elements up to " + std::to_string(end));
  if (end > h.max_elements_) growForLoad(h, std::max<uint64_t>(end, grownCapacity(h.max_elements_)));
  if (L.seen.size() < end) L.seen.resize(end, 0);
  if (kind == kRecordsUnit) {
    const size_t rec = h.size_data_per_element_;
    if (r.remaining() != size_t(count) * rec) corrupt("level-0 records of another size");
    std::memcpy(h.data_level0_memory_ + size_t(first) * rec, r.take(size_t(count) * rec, "records"), size_t(count) * rec);
    for (uint64_t i = first; i < end; ++i) L.seen[i] |= 1;
    return;
  }
  for (uint64_t i = first; i < end; ++i) {
    uint32_t bytes = r.pod<uint32_t>("link list size");
    if (bytes % h.size_links_per_element_ != 0 || bytes / h.size_links_per_element_ > 64)
      corrupt("link list size " + std::to_string(bytes));
    free(h.linkLists_[i]);
    h.linkLists_[i] = nullptr;
    h.element_levels_[i] = int(bytes / h.size_links_per_element_);
    if (bytes) {
      h.linkLists_[i] = static_cast<char*>(malloc(bytes));
      if (!h.linkLists_[i]) throw std::bad_alloc();
      std::memcpy(h.linkLists_[i], r.take(bytes, "link lists"), bytes);
    }
    L.seen[i] |= 2;
  }
  if (r.remaining()) corrupt("link lists of another size");
}

void VectorIndex::finishLoad() {
  if (!loading_) throw Error(codes::kInvalidArgument, "finishLoad outside a load");
  if (!hnsw_) {
    loading_.reset();
    return;
  }
  Loading& L = *loading_;
  Hnsw& h = *hnsw_;
  const size_t n = L.count;
  if (!L.state) corrupt("a graph without its state");
  if (L.seen.size() > n) corrupt("elements past the count");
  if (L.seen.size() < n) corrupt("elements " + std::to_string(L.seen.size()) + ".." + std::to_string(n) + " are missing");
  for (size_t i = 0; i < n; ++i)
    if (L.seen[i] != 3) corrupt("element " + std::to_string(i) + " is missing (" + std::to_string(L.seen[i]) + ")");
  if (n == 0) {
    if (L.maxLevel != -1) corrupt("empty graph with a max level");
  } else if (L.entry >= n || L.maxLevel < 0 || L.maxLevel > 64) {
    corrupt("entry point " + std::to_string(L.entry) + " / max level " + std::to_string(L.maxLevel));
  }
  // Every neighbour id must name an existing element, or a search would read out of bounds.
  auto checkList = [&](const unsigned int* list, size_t maxCount, size_t i) {
    size_t cnt = h.getListCount(const_cast<unsigned int*>(list));
    if (cnt > maxCount) corrupt("element " + std::to_string(i) + " has " + std::to_string(cnt) + " links");
    for (size_t j = 1; j <= cnt; ++j)
      if (list[j] >= n) corrupt("element " + std::to_string(i) + " links to " + std::to_string(list[j]));
  };
  h.label_lookup_.clear();
  h.label_lookup_.reserve(n);
  h.deleted_elements.clear();
  size_t deleted = 0;
  for (size_t i = 0; i < n; ++i) {
    if (h.element_levels_[i] > L.maxLevel) corrupt("element " + std::to_string(i) + " above the max level");
    checkList(h.get_linklist0(i), h.maxM0_, i);
    for (int l = 1; l <= h.element_levels_[i]; ++l) checkList(h.get_linklist(i, l), h.maxM_, i);
    uint64_t label = h.getExternalLabel(i);
    if (!h.label_lookup_.emplace(label, uint32_t(i)).second) corrupt("label " + std::to_string(label) + " twice");
    if (h.isMarkedDeleted(i)) {
      ++deleted;
      h.deleted_elements.insert(uint32_t(i));
    }
  }
  if (n && h.element_levels_[L.entry] != L.maxLevel) corrupt("entry point is not on the top level");
  h.cur_element_count = n;
  h.num_deleted_ = deleted;
  h.maxlevel_ = L.maxLevel;
  h.enterpoint_node_ = n ? L.entry : -1;
  h.level_generator_.seed(params_.seed + n);  // fresh levels for later inserts, still deterministic
  loading_.reset();
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
  uint8_t kind;
  ByteReader head = r.unit(kind);
  if (kind != kHeadUnit) corrupt("no head");
  auto idx = fromHead(head, size);
  while (r.remaining()) {
    ByteReader u = r.unit(kind);
    idx->loadUnit(kind, u);
  }
  idx->finishLoad();
  return idx;
}

}  // namespace semcache
