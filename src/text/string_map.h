#pragma once
// Open-addressing hash map from byte strings to int32 ids, looked up by string_view without
// allocating (std::unordered_map<std::string> would build a std::string per probe).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace semcache::text {

class StringIdMap {
 public:
  // Inserts or overwrites (a later duplicate wins, like Map.set / object keys in JS).
  void set(std::string_view key, int32_t id) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    Slot& s = slots_[probe(key)];
    if (s.id < 0) {
      s.off = uint32_t(pool_.size());
      s.len = uint32_t(key.size());
      pool_.append(key);
      count_++;
    }
    s.id = id;
  }
  // -1 when absent.
  int32_t get(std::string_view key) const {
    if (slots_.empty()) return -1;
    return slots_[probe(key)].id;
  }
  size_t size() const { return count_; }

 private:
  struct Slot { uint32_t off = 0, len = 0; int32_t id = -1; };
  std::vector<Slot> slots_;
  std::string pool_;
  size_t count_ = 0;

  static uint64_t hash(std::string_view k) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : k) { h ^= c; h *= 1099511628211ull; }
    return h ^ (h >> 29);
  }
  size_t probe(std::string_view key) const {
    size_t mask = slots_.size() - 1, i = hash(key) & mask;
    for (;;) {
      const Slot& s = slots_[i];
      if (s.id < 0 || std::string_view(pool_.data() + s.off, s.len) == key) return i;
      i = (i + 1) & mask;
    }
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    for (const Slot& s : old)
      if (s.id >= 0) slots_[probe(std::string_view(pool_.data() + s.off, s.len))] = s;
  }
};

}  // namespace semcache::text
