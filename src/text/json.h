#pragma once
// The core's one JSON parser (RFC 8259, strict), a DOM for the JSON documents the core is handed
// as text: tokenizer files (vocab.json, tokenizer.json, encoder.json), safetensors headers and
// Hugging Face config.json. Numbers keep their double value parsed with strtod (correctly
// rounded, like JS JSON.parse); a literal without fraction or exponent that fits int64 also keeps
// its exact integer (safetensors offsets past 2^53, token ids). \u escapes decode surrogate pairs;
// a lone surrogate decodes to U+FFFD, so the result is always valid UTF-8. Errors throw
// semcache::Error with the given code, naming the document and the byte offset of the problem.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace semcache::text::json {

struct Value {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  bool integral = false;  // the literal had no fraction/exponent and fits int64: `integer` is exact
  int64_t integer = 0;
  std::string str;
  std::vector<Value> items;                           // Array
  std::vector<std::pair<std::string, Value>> fields;  // Object, in document order

  bool isObject() const { return type == Type::Object; }
  bool isArray() const { return type == Type::Array; }
  bool isString() const { return type == Type::String; }
  bool isNumber() const { return type == Type::Number; }
  bool isNull() const { return type == Type::Null; }
  bool isBool() const { return type == Type::Bool; }
  bool isInteger() const { return type == Type::Number && integral; }
  // Last field with this key (JSON.parse keeps the last duplicate), or nullptr.
  const Value* find(std::string_view key) const;
};

// `what` names the document in error messages, e.g. "tokenizer.json".
Value parse(std::string_view text, const char* errorCode, const std::string& what);

}  // namespace semcache::text::json
