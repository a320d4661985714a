#pragma once
// XXH64 (Yann Collet's xxHash, 64-bit): fast enough to checksum a 200 MB snapshot in well under
// a second in wasm, and a good 64-bit key for exact prompt matches.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace semcache {

uint64_t xxh64(const void* data, size_t len, uint64_t seed = 0);
inline uint64_t xxh64(std::string_view s, uint64_t seed = 0) { return xxh64(s.data(), s.size(), seed); }

// The same hash over data that arrives in pieces (a snapshot written or read in slices):
// digest() after any split of the input equals xxh64() of the whole.
class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(const void* data, size_t len);
  uint64_t digest() const;

 private:
  uint64_t v_[4];
  uint64_t total_ = 0;
  uint64_t seed_;
  uint8_t buf_[32];
  size_t buffered_ = 0;
};

}  // namespace semcache
