#pragma once
// Heap accounting for the index and the cache (Cache::memory()): what each structure holds,
// counted as the allocator sees it (a malloc chunk has a header and is rounded up), so that the
// parts add up to the allocator's own figure and the rest is slack or fragmentation.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace semcache {

// The chunk a malloc(n) takes in dlmalloc (emscripten's) or glibc: a size_t header, rounded up
// to two words, at least four words.
constexpr uint64_t allocBytes(uint64_t n) {
  const uint64_t align = 2 * sizeof(size_t), head = sizeof(size_t);
  const uint64_t chunk = (n + head + align - 1) / align * align;
  return chunk < 4 * sizeof(void*) ? 4 * sizeof(void*) : chunk;
}

// A node-based hash map: per node a next pointer, the hash (libc++ always keeps it; libstdc++
// not for integer keys, whose hash is the key) and the pair; and the bucket array.
template <class K, class V, class H, class E, class A>
uint64_t mapBytes(const std::unordered_map<K, V, H, E, A>& m) {
  struct Hashed {
    void* next;
    size_t hash;
    std::pair<const K, V> value;
  };
  struct Bare {
    void* next;
    std::pair<const K, V> value;
  };
#if defined(__GLIBCXX__)
  constexpr size_t node = std::is_integral_v<K> ? sizeof(Bare) : sizeof(Hashed);
#else
  constexpr size_t node = sizeof(Hashed);
#endif
  return m.size() * allocBytes(node) + (m.bucket_count() > 1 ? allocBytes(m.bucket_count() * sizeof(void*)) : 0);
}

struct IndexMemory {
  uint64_t slots = 0;        // graph slots allocated (the capacity)
  uint64_t elements = 0;     // slots in use, tombstones included
  uint64_t records = 0;      // level 0: links, point and label per slot (hnswlib's one block)
  uint64_t slotArrays = 0;   // per slot: a mutex, the level, the upper-list pointer, a visited mark
  uint64_t upperLinks = 0;   // upper-level link lists (about one element in M has them)
  uint64_t labels = 0;       // hnswlib's label -> slot map
  uint64_t fixed = 0;        // per index whatever its size (hnswlib's 64k label locks)
  uint64_t flat = 0;         // a flat (not yet promoted) index's points and maps
  uint64_t total() const { return records + slotArrays + upperLinks + labels + fixed + flat; }
  IndexMemory& operator+=(const IndexMemory& o) {
    slots += o.slots, elements += o.elements, records += o.records, slotArrays += o.slotArrays;
    upperLinks += o.upperLinks, labels += o.labels, fixed += o.fixed, flat += o.flat;
    return *this;
  }
};

struct CacheMemory {
  IndexMemory index;        // every scope's
  uint64_t entries = 0;     // the id -> entry map
  uint64_t signatures = 0;  // prompt signatures' lists (the learned evaluator's only)
  uint64_t exact = 0;       // per scope: prompt hash -> id
  uint64_t scopes = 0;      // scope tables and keys
  uint64_t total() const { return index.total() + entries + signatures + exact + scopes; }
};

}  // namespace semcache
