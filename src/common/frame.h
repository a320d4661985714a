#pragma once
// Framing shared by every binary format we write: magic (u32), version (u32), payload length
// (u64), payload, XXH64 of everything before it. Reading checks all four before the payload is
// parsed, so corruption is reported as such instead of as a confusing parse error.
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace semcache {

void beginFrame(ByteWriter& w, uint32_t magic, uint32_t version);  // w must be empty
void endFrame(ByteWriter& w);
// `what` names the format in errors ("index snapshot"). Errors: CORRUPT_SNAPSHOT (bad magic,
// length or checksum), UNSUPPORTED_VERSION (a newer or older format).
ByteReader openFrame(const uint8_t* data, size_t size, uint32_t magic, uint32_t version, const char* what);

constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

}  // namespace semcache
