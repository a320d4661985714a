#pragma once
// A small, strict JSON reader (RFC 8259) for the few JSON documents the core is handed as bytes:
// safetensors headers, Hugging Face config.json, GPT-2's encoder.json. It builds a DOM; objects
// keep their members in document order. Errors throw semcache::Error with the caller's code and
// a message naming the document and the byte offset.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace semcache::json {

struct Value {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0.0;
  bool is_integer = false;  // the literal had no fraction/exponent and fits int64
  int64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  bool is_object() const { return type == Type::Object; }
  bool is_array() const { return type == Type::Array; }
  bool is_string() const { return type == Type::String; }
  bool is_number() const { return type == Type::Number; }
  // Linear search: these documents' objects are small, except encoder.json which is iterated.
  const Value* find(std::string_view key) const;
};

// `doc` names the document in error messages ("config.json"); `error_code` is thrown on failure.
Value parse(std::string_view text, const char* doc, const char* error_code);

}  // namespace semcache::json
