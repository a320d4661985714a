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

// Every code the core (and its bindings) throws: throw Error(codes::kX, ...), never a literal.
// Each is documented once, with the JS layer's, in js/errors.ts (ERROR_CODES);
// tests/js/error-codes.test.ts fails when a code thrown here is missing there.
namespace codes {
inline constexpr const char* kInvalidArgument = "INVALID_ARGUMENT";
inline constexpr const char* kDimensionMismatch = "DIMENSION_MISMATCH";
inline constexpr const char* kNotFinite = "NOT_FINITE";
inline constexpr const char* kCorruptSnapshot = "CORRUPT_SNAPSHOT";
inline constexpr const char* kUnsupportedVersion = "UNSUPPORTED_VERSION";
inline constexpr const char* kSnapshotMismatch = "SNAPSHOT_MISMATCH";  // made for another shape or build
inline constexpr const char* kAborted = "ABORTED";  // a sliced snapshot whose cache was cleared or replaced
inline constexpr const char* kCapacity = "CAPACITY";
inline constexpr const char* kNotFound = "NOT_FOUND";
inline constexpr const char* kCorruptModel = "CORRUPT_MODEL";
inline constexpr const char* kUnsupportedModel = "UNSUPPORTED_MODEL";
inline constexpr const char* kInvalidVocab = "INVALID_VOCAB";
inline constexpr const char* kContextFull = "CONTEXT_FULL";
inline constexpr const char* kOutOfMemory = "OUT_OF_MEMORY";  // the bindings, on std::bad_alloc
inline constexpr const char* kInternal = "INTERNAL";         // the bindings, on any other exception
}  // namespace codes

}  // namespace semcache
