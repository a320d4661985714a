#pragma once
// XXH64 (Yann Collet's xxHash, 64-bit): fast enough to checksum a 200 MB snapshot in well under
// a second in wasm, and a good 64-bit key for exact prompt matches.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace semcache {

uint64_t xxh64(const void* data, size_t len, uint64_t seed = 0);
inline uint64_t xxh64(std::string_view s, uint64_t seed = 0) { return xxh64(s.data(), s.size(), seed); }

}  // namespace semcache
