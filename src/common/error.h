#pragma once
// One exception type for the whole core. The code is a stable, SCREAMING_SNAKE identifier that
// the bindings hand to JS as SemcacheError.code; the message is for humans and names the bad input.
#include <stdexcept>
#include <string>

namespace semcache {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Codes shared across modules; modules may add their own (document them where thrown).
namespace codes {
inline constexpr const char* kInvalidArgument = "INVALID_ARGUMENT";
inline constexpr const char* kDimensionMismatch = "DIMENSION_MISMATCH";
inline constexpr const char* kNotFinite = "NOT_FINITE";
inline constexpr const char* kCorruptSnapshot = "CORRUPT_SNAPSHOT";
inline constexpr const char* kUnsupportedVersion = "UNSUPPORTED_VERSION";
inline constexpr const char* kSnapshotMismatch = "SNAPSHOT_MISMATCH";  // made for another shape or build
inline constexpr const char* kCapacity = "CAPACITY";
inline constexpr const char* kNotFound = "NOT_FOUND";
inline constexpr const char* kCorruptModel = "CORRUPT_MODEL";
}  // namespace codes

}  // namespace semcache
