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

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace semcache
