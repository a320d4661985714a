// The wasm heap of a big cache, part by part (bench/scale.mjs measures it in Chromium; this is
// the cheap setting: the same core under Node, no browser, no SQLite). Puts N entries of the
// scale bench's vectors (int8, 512-d, M 16, the defaults' efConstruction) into one scope, as the cache's
// own path does, then prints Cache::memory()'s parts next to the allocator's totals and the wasm
// memory size; with --snapshot FILE it writes the snapshot there, and with --load FILE it
// instead loads one (a fresh process: the heap as an open from the snapshot leaves it).
//   scale_heap.cjs VECTORS DIM N [--snapshot FILE | --load FILE]   > one JSON line
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/snapshot.h"

using namespace semcache;

namespace {

uint64_t memoryBytes() {
#if defined(__wasm__)
  return uint64_t(__builtin_wasm_memory_size(0)) * 65536;
#else
  return 0;
#endif
}

double mib(uint64_t b) { return double(b) / (1 << 20); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: scale_heap VECTORS DIM N [--snapshot FILE | --load FILE]\n");
    return 2;
  }
  const size_t dim = std::stoul(argv[2]), n = std::stoul(argv[3]);
  std::string save, load;
  for (int i = 4; i + 1 < argc; i += 2) (std::strcmp(argv[i], "--load") ? save : load) = argv[i + 1];
  CacheConfig config;
  config.index.space = SpaceKind::Int8;
  config.index.dim = uint32_t(dim);
  config.maxEntries = 0;
  Cache cache(config);
  auto t0 = std::chrono::steady_clock::now();
  if (!load.empty()) {
    FILE* f = std::fopen(load.c_str(), "rb");
    if (!f) return std::perror(load.c_str()), 1;
    std::fseek(f, 0, SEEK_END);
    SnapshotLoader loader(cache, uint64_t(std::ftell(f)));
    std::fseek(f, 0, SEEK_SET);
    std::vector<uint8_t> chunk(256 << 10);  // as the stores hand it over: a chunk at a time
    for (size_t got; (got = std::fread(chunk.data(), 1, chunk.size(), f)) > 0;) loader.push(chunk.data(), got);
    std::fclose(f);
    loader.finish();
  } else {
    FILE* f = std::fopen(argv[1], "rb");
    if (!f) return std::perror(argv[1]), 1;
    std::vector<float> v(dim);
    for (size_t i = 0; i < n; ++i) {
      if (std::fread(v.data(), 4, dim, f) != dim) return std::fprintf(stderr, "%s: short read at %zu\n", argv[1], i), 1;
      std::string prompt = "stored prompt " + std::to_string(i);
      cache.put("", prompt, v.data(), dim, 180, double(i), 0);
    }
    std::fclose(f);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Measured before a snapshot is written: Cache::snapshot makes one buffer of it (the browser's
  // stores take it in slices), which would leave its pages in the arena.
  const CacheMemory m = cache.memory();
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const struct mallinfo2 a = mallinfo2();
#else
  const struct mallinfo a = mallinfo();
#endif
  const uint64_t heap = memoryBytes();
  if (load.empty() && !save.empty()) {
    {
      auto bytes = cache.snapshot(1);
      FILE* out = std::fopen(save.c_str(), "wb");
      if (!out || std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size()) return std::perror(save.c_str()), 1;
      std::fclose(out);
    }
  }
  const uint64_t entries = cache.stats().entries;
  std::printf(
      "{\"mode\":\"%s\",\"entries\":%llu,\"ms\":%.0f,\"wasm_memory_mib\":%.1f,\"malloc_arena_mib\":%.1f,"
      "\"malloc_in_use_mib\":%.1f,\"malloc_free_mib\":%.1f,\"accounted_mib\":%.1f,"
      "\"graph_slots\":%llu,\"graph_elements\":%llu,\"record_bytes\":%.0f,"
      "\"parts_mib\":{\"level0_records\":%.1f,\"slot_arrays\":%.1f,\"upper_links\":%.1f,\"labels\":%.1f,"
      "\"index_fixed\":%.1f,\"flat\":%.1f,\"entries\":%.1f,\"signatures\":%.1f,\"exact\":%.1f,\"scopes\":%.1f},"
      "\"bytes_per_entry\":%.0f}\n",
      load.empty() ? "put" : "load", (unsigned long long)entries, ms, mib(heap), mib(uint64_t(a.arena)),
      mib(uint64_t(a.uordblks)), mib(uint64_t(a.fordblks)), mib(m.total()), (unsigned long long)m.index.slots,
      (unsigned long long)m.index.elements, m.index.slots ? double(m.index.records) / double(m.index.slots) : 0.,
      mib(m.index.records), mib(m.index.slotArrays), mib(m.index.upperLinks), mib(m.index.labels), mib(m.index.fixed),
      mib(m.index.flat), mib(m.entries), mib(m.signatures), mib(m.exact), mib(m.scopes),
      entries ? double(a.uordblks) / double(entries) : 0.);
  return 0;
}
