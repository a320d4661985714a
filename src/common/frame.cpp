#include "common/frame.h"

#include <cstring>

#include "common/error.h"
#include "common/hash.h"

namespace semcache {

void beginFrame(ByteWriter& w, uint32_t magic, uint32_t version) {
  w.pod(magic);
  w.pod(version);
  w.pod(uint64_t{0});  // patched by endFrame
}

void endFrame(ByteWriter& w) {
  auto& b = w.bytes();
  uint64_t len = b.size() - 16;
  std::memcpy(b.data() + 8, &len, 8);
  w.pod(xxh64(b.data(), b.size()));
}

ByteReader openFrame(const uint8_t* data, size_t size, uint32_t magic, uint32_t version, const char* what) {
  std::string name(what);
  if (size < 24) throw Error(codes::kCorruptSnapshot, name + " is too short (" + std::to_string(size) + " bytes)");
  uint32_t m, v;
  uint64_t len, sum;
  std::memcpy(&m, data, 4);
  std::memcpy(&v, data + 4, 4);
  std::memcpy(&len, data + 8, 8);
  if (m != magic) throw Error(codes::kCorruptSnapshot, name + " has the wrong magic: not a " + name);
  if (v != version)
    throw Error(codes::kUnsupportedVersion, name + " has format version " + std::to_string(v) +
                                                ", this build reads version " + std::to_string(version));
  if (len != size - 24)
    throw Error(codes::kCorruptSnapshot, name + " is truncated or padded: header says " + std::to_string(len) +
                                             " payload bytes, found " + std::to_string(size - 24));
  std::memcpy(&sum, data + size - 8, 8);
  if (sum != xxh64(data, size - 8)) throw Error(codes::kCorruptSnapshot, name + " failed its checksum");
  return ByteReader(data + 16, size - 24);
}

}  // namespace semcache
