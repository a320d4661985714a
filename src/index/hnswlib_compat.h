#pragma once
// VectorIndex uses hnswlib 0.8.0's internals, not just its public API: snapshots copy
// HierarchicalNSW's level-0 records and link lists byte for byte, read() rebuilds its label map,
// tombstones and level generator by hand, and graphSearch() re-implements searchKnn's level-0
// loop over the same arrays (visiting, stopping and breaking ties as 0.8.0 does; the tests compare
// the two loops). hnswlib has no version macro, so three checks pin the version:
//  - CMakeLists.txt checks the SHA-256 of the hnswlib headers it builds against. Only that is
//    exact; the checks below also hold in a build without CMake.
//  - The static_asserts below fail to compile against headers that lack 0.8.0's level-0 search
//    (searchBaseLayerST<bare_bone_search, collect_metrics> with a stop condition, new in 0.8.0;
//    0.7.0 has <has_deletions, collect_metrics> and no stop conditions) or that changed the type
//    of any field the index reads or writes.
//  - Snapshots record kVersion and kLabelBytes. labeltype is size_t: 8 bytes natively, 4 in
//    wasm32. That width is part of every level-0 record, so loading refuses a graph written with
//    another hnswlib version or label width.
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace semcache::hnsw_compat {

inline constexpr uint32_t kVersion = 0x000800;  // 0.8.0, as major << 16 | minor << 8 | patch
inline constexpr uint32_t kLabelBytes = sizeof(hnswlib::labeltype);

using hnswlib::labeltype;
using hnswlib::linklistsizeint;
using hnswlib::tableint;

// Link lists are written and validated as [u32 count (low 16 bits; bit 0 of byte 2 = deleted)]
// [u32 neighbour ids]; labels are size_t.
static_assert(std::same_as<tableint, unsigned int> && sizeof(tableint) == 4, "hnswlib 0.8.0: tableint is a 32-bit unsigned");
static_assert(std::same_as<linklistsizeint, unsigned int>, "hnswlib 0.8.0: linklistsizeint is unsigned int");
static_assert(std::same_as<labeltype, size_t>, "hnswlib 0.8.0: labeltype is size_t");
static_assert(std::same_as<hnswlib::vl_type, unsigned short int>, "hnswlib 0.8.0: visited-list tags are unsigned short");

template <class H>
concept Has080Search = requires(const H& h, const void* q, hnswlib::BaseFilterFunctor* filter,
                                hnswlib::BaseSearchStopCondition<float>* stop, linklistsizeint* list) {
  { h.template searchBaseLayerST<true, false>(tableint(0), q, size_t(1), filter, stop) } ->
      std::same_as<std::priority_queue<std::pair<float, tableint>, std::vector<std::pair<float, tableint>>,
                                       typename H::CompareByFirst>>;
  h.searchStopConditionClosest(q, *stop, filter);
  { h.getListCount(list) } -> std::same_as<unsigned short int>;
  { h.get_linklist0(tableint(0)) } -> std::same_as<linklistsizeint*>;
  { h.get_linklist(tableint(0), 1) } -> std::same_as<linklistsizeint*>;
  { h.getDataByInternalId(tableint(0)) } -> std::same_as<char*>;
  { h.getExternalLabel(tableint(0)) } -> std::same_as<labeltype>;
  { h.isMarkedDeleted(tableint(0)) } -> std::same_as<bool>;
};

template <class H>
concept HasFieldsAsUsed =
    std::same_as<decltype(H::max_elements_), size_t> && std::same_as<decltype(H::cur_element_count), std::atomic<size_t>> &&
    std::same_as<decltype(H::num_deleted_), std::atomic<size_t>> && std::same_as<decltype(H::size_data_per_element_), size_t> &&
    std::same_as<decltype(H::size_links_per_element_), size_t> && std::same_as<decltype(H::maxM_), size_t> &&
    std::same_as<decltype(H::maxM0_), size_t> && std::same_as<decltype(H::maxlevel_), int> &&
    std::same_as<decltype(H::enterpoint_node_), tableint> && std::same_as<decltype(H::data_level0_memory_), char*> &&
    std::same_as<decltype(H::linkLists_), char**> && std::same_as<decltype(H::element_levels_), std::vector<int>> &&
    std::same_as<decltype(H::label_lookup_), std::unordered_map<labeltype, tableint>> &&
    std::same_as<decltype(H::deleted_elements), std::unordered_set<tableint>> &&
    std::same_as<decltype(H::level_generator_), std::default_random_engine> &&
    std::same_as<decltype(H::visited_list_pool_), std::unique_ptr<hnswlib::VisitedListPool>> &&
    std::same_as<decltype(H::fstdistfunc_), hnswlib::DISTFUNC<float>> && std::same_as<decltype(H::dist_func_param_), void*>;

static_assert(Has080Search<hnswlib::HierarchicalNSW<float>>,
              "these hnswlib headers are not 0.8.0's: VectorIndex's search loop and snapshots follow 0.8.0 (see above)");
static_assert(HasFieldsAsUsed<hnswlib::HierarchicalNSW<float>>,
              "these hnswlib headers changed a HierarchicalNSW field VectorIndex reads or writes: review vector_index.cpp");

}  // namespace semcache::hnsw_compat
