#pragma once
// Turns any C++ exception escaping a bound call into a thrown JS object
// {name: 'SemcacheError', code, message}; js/errors.ts re-wraps it as the SemcacheError class.
// The C++ exception is fully caught (and freed) before the JS throw, so nothing leaks.
#include <emscripten/val.h>

#include <new>
#include <string>
#include <utility>

#include "common/error.h"

namespace semcache::bind {

[[noreturn]] inline void throwJs(const std::string& code, const std::string& message) {
  emscripten::val err = emscripten::val::object();
  err.set("name", std::string("SemcacheError"));
  err.set("code", code);
  err.set("message", message);
  err.throw_();
}

// guard([&] { return core.doThing(); }) — every bound entry point goes through this.
template <class F>
auto guard(F&& f) -> decltype(f()) {
  std::string code, message;
  try {
    return std::forward<F>(f)();
  } catch (const semcache::Error& e) {
    code = e.code();
    message = e.what();
  } catch (const std::bad_alloc&) {
    code = codes::kOutOfMemory;
    message = "out of memory in the wasm core";
  } catch (const std::exception& e) {
    code = codes::kInternal;
    message = e.what();
  } catch (...) {
    code = codes::kInternal;
    message = "unknown C++ exception";
  }
  throwJs(code, message);
}

}  // namespace semcache::bind
