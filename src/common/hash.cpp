#include "common/hash.h"

#include <cstring>

namespace semcache {
namespace {

constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t P5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t read64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline uint32_t read32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t round(uint64_t acc, uint64_t input) { return rotl(acc + input * P2, 31) * P1; }
inline uint64_t merge(uint64_t acc, uint64_t v) { return (acc ^ round(0, v)) * P1 + P4; }

// Whole 32-byte stripes from p; returns the bytes consumed.
size_t stripes(uint64_t* v, const uint8_t* p, size_t len) {
  size_t done = 0;
  for (; done + 32 <= len; done += 32, p += 32) {
    v[0] = round(v[0], read64(p));
    v[1] = round(v[1], read64(p + 8));
    v[2] = round(v[2], read64(p + 16));
    v[3] = round(v[3], read64(p + 24));
  }
  return done;
}

// The end of XXH64: the accumulators (when the input had a stripe), the length, the < 32-byte tail.
uint64_t finish(const uint64_t* v, bool striped, uint64_t seed, uint64_t total, const uint8_t* p, size_t tail) {
  uint64_t h;
  if (striped) {
    h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    h = merge(merge(merge(merge(h, v[0]), v[1]), v[2]), v[3]);
  } else {
    h = seed + P5;
  }
  h += total;
  const uint8_t* end = p + tail;
  for (; p + 8 <= end; p += 8) h = rotl(h ^ round(0, read64(p)), 27) * P1 + P4;
  if (p + 4 <= end) {
    h = rotl(h ^ (static_cast<uint64_t>(read32(p)) * P1), 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (*p * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

}  // namespace

uint64_t xxh64(const void* data, size_t len, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t v[4] = {seed + P1 + P2, seed + P2, seed, seed - P1};
  size_t done = stripes(v, p, len);
  return finish(v, len >= 32, seed, len, p + done, len - done);
}

Xxh64::Xxh64(uint64_t seed) : v_{seed + P1 + P2, seed + P2, seed, seed - P1}, seed_(seed) {}

void Xxh64::update(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  total_ += len;
  if (buffered_) {
    size_t take = len < 32 - buffered_ ? len : 32 - buffered_;
    std::memcpy(buf_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    len -= take;
    if (buffered_ < 32) return;
    stripes(v_, buf_, 32);
    buffered_ = 0;
  }
  size_t done = stripes(v_, p, len);
  std::memcpy(buf_, p + done, len - done);
  buffered_ = len - done;
}

uint64_t Xxh64::digest() const { return finish(v_, total_ >= 32, seed_, total_, buf_, buffered_); }

}  // namespace semcache
