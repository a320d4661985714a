#pragma once
// safetensors container: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Parsing validates the container (lengths, JSON, offsets in range, sizes matching shape x dtype);
// failures throw CORRUPT_MODEL naming the file part at fault.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace semcache::gpt2 {

struct TensorView {
  std::string dtype;           // "F32", "F16", ... as written in the header
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // not necessarily aligned
  size_t nbytes = 0;
  size_t numel() const;
};

struct SafeTensors {
  std::map<std::string, TensorView> tensors;
};

// The bytes must outlive the returned views.
SafeTensors parse_safetensors(const uint8_t* bytes, size_t size);

std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace semcache::gpt2
