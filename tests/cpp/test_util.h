#pragma once
// Helpers every C++ test file may need: reading a fixture file, and the code of the
// semcache::Error a call throws.
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"

namespace semcache::testing {

inline std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The code of the semcache::Error `f` throws (its message into `message`), or "ok".
template <class F>
std::string codeOf(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return "ok";
}

}  // namespace semcache::testing
