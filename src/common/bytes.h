#pragma once
// Little-endian byte writer/reader for the snapshot formats. The reader bounds-checks every read
// and throws CORRUPT_SNAPSHOT naming what it was reading, so a truncated or hostile blob can
// never read past its end.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace semcache {

class ByteWriter {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    raw(&v, sizeof(T));
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void str(std::string_view s) {
    pod(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void reserve(size_t n) { buf_.reserve(n); }
  size_t size() const { return buf_.size(); }
  std::vector<uint8_t>& bytes() { return buf_; }
  void clear() { buf_.clear(); }
  // A unit is [u8 kind][u32 payload length][payload]: a reader fed in slices knows when it has
  // one whole. beginUnit returns where the length goes; endUnit writes it.
  size_t beginUnit(uint8_t kind) {
    pod(kind);
    pod(uint32_t{0});
    return buf_.size() - 4;
  }
  void endUnit(size_t at) {
    size_t len = buf_.size() - at - 4;
    if (len > UINT32_MAX) throw Error(codes::kCapacity, "a snapshot unit over 4 GiB");
    uint32_t n = uint32_t(len);
    std::memcpy(buf_.data() + at, &n, 4);
  }

 private:
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <class T>
  T pod(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  const uint8_t* take(size_t n, const char* what) {
    if (static_cast<size_t>(end_ - p_) < n)
      throw Error(codes::kCorruptSnapshot, std::string("snapshot truncated while reading ") + what);
    const uint8_t* r = p_;
    p_ += n;
    return r;
  }
  std::string str(const char* what) {
    auto n = pod<uint32_t>(what);
    const uint8_t* s = take(n, what);
    return std::string(reinterpret_cast<const char*>(s), n);
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // The next unit (see ByteWriter::beginUnit): its kind, and a reader over exactly its payload.
  ByteReader unit(uint8_t& kind) {
    kind = pod<uint8_t>("unit kind");
    uint32_t len = pod<uint32_t>("unit length");
    return ByteReader(take(len, "unit"), len);
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace semcache
