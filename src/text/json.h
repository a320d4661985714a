#pragma once
// A small DOM JSON parser (RFC 8259) for tokenizer files: vocab.json, tokenizer.json.
// Numbers keep their double value parsed with strtod (correctly rounded, like JS JSON.parse).
// A \u escape of a lone surrogate decodes to U+FFFD. Errors throw semcache::Error with the given
// code and the byte offset of the problem.
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
  std::string str;
  std::vector<Value> items;                           // Array
  std::vector<std::pair<std::string, Value>> fields;  // Object, in document order

  bool isObject() const { return type == Type::Object; }
  bool isArray() const { return type == Type::Array; }
  bool isString() const { return type == Type::String; }
  bool isNumber() const { return type == Type::Number; }
  bool isNull() const { return type == Type::Null; }
  bool isBool() const { return type == Type::Bool; }
  // Last field with this key (JSON.parse keeps the last duplicate), or nullptr.
  const Value* find(std::string_view key) const;
};

// `what` names the document in error messages, e.g. "tokenizer.json".
Value parse(std::string_view text, const char* errorCode, const std::string& what);

}  // namespace semcache::text::json
