#include "gpt2/safetensors.h"

#include "common/error.h"
#include "text/json.h"

namespace semcache::gpt2 {

namespace json = text::json;

size_t TensorView::numel() const {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static size_t dtype_size(const std::string& dt) {
  if (dt == "F64" || dt == "I64" || dt == "U64") return 8;
  if (dt == "F32" || dt == "I32" || dt == "U32") return 4;
  if (dt == "F16" || dt == "BF16" || dt == "I16" || dt == "U16") return 2;
  if (dt == "I8" || dt == "U8" || dt == "BOOL" || dt == "F8_E4M3" || dt == "F8_E5M2") return 1;
  return 0;
}

SafeTensors parse_safetensors(const uint8_t* bytes, size_t size) {
  const char* C = codes::kCorruptModel;
  if (size < 8)
    throw Error(C, "model.safetensors: " + std::to_string(size) + " bytes is too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | bytes[i];
  if (n > size - 8)
    throw Error(C, "model.safetensors: header length " + std::to_string(n) + " exceeds the file size " +
                       std::to_string(size) + " (truncated file?)");
  if (n > (100u << 20)) throw Error(C, "model.safetensors: header length " + std::to_string(n) + " is over 100 MB");
  json::Value h = json::parse(std::string_view(reinterpret_cast<const char*>(bytes + 8), size_t(n)), C,
                              "model.safetensors header");
  if (!h.isObject()) throw Error(C, "model.safetensors: header is not a JSON object");
  const uint8_t* data = bytes + 8 + n;
  size_t data_size = size - 8 - size_t(n);
  SafeTensors st;
  for (const auto& entry : h.fields) {
    const std::string& name = entry.first;
    const json::Value& v = entry.second;
    if (name == "__metadata__") continue;
    auto bad = [&](const std::string& what) { return Error(C, "model.safetensors: tensor '" + name + "': " + what); };
    const json::Value* dt = v.find("dtype");
    const json::Value* shape = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    if (!v.isObject() || !dt || !dt->isString() || !shape || !shape->isArray() || !off || !off->isArray())
      throw bad("entry needs dtype (string), shape (array) and data_offsets (array)");
    TensorView t;
    t.dtype = dt->str;
    for (const auto& d : shape->items) {
      if (!d.isInteger() || d.integer < 0) throw bad("shape holds a non-integer or negative dimension");
      t.shape.push_back(d.integer);
    }
    if (off->items.size() != 2 || !off->items[0].isInteger() || !off->items[1].isInteger())
      throw bad("data_offsets must be two integers");
    int64_t b = off->items[0].integer, e = off->items[1].integer;
    if (b < 0 || e < b || uint64_t(e) > data_size)
      throw bad("data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] fall outside the " +
                std::to_string(data_size) + "-byte data section (truncated file?)");
    size_t es = dtype_size(t.dtype);
    if (es && size_t(e - b) != t.numel() * es)
      throw bad("holds " + std::to_string(e - b) + " bytes but " + t.dtype + " " + shape_str(t.shape) +
                " needs " + std::to_string(t.numel() * es));
    t.data = data + b;
    t.nbytes = size_t(e - b);
    st.tensors.emplace(name, std::move(t));
  }
  return st;
}

}  // namespace semcache::gpt2
