#pragma once
// Shared bits of the tokenizers: error code and the padded batch layout.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/error.h"

namespace semcache::text {

// Thrown (as semcache::Error code) when a vocabulary / tokenizer file is malformed or unsupported.
inline constexpr const char* kInvalidVocab = codes::kInvalidVocab;

// A batch of encodings padded to the longest row: ids and mask are (B, T) row-major.
struct Batch {
  int32_t rows = 0, cols = 0;
  std::vector<int32_t> ids;      // (B, T), padding = padId
  std::vector<int32_t> mask;     // (B, T), 1 for real tokens, 0 for padding
  std::vector<int32_t> lengths;  // (B,)
};

inline Batch padBatch(const std::vector<std::vector<int32_t>>& rows, int32_t padId) {
  Batch b;
  b.rows = int32_t(rows.size());
  for (const auto& r : rows) b.cols = std::max<int32_t>(b.cols, int32_t(r.size()));
  b.ids.assign(size_t(b.rows) * b.cols, padId);
  b.mask.assign(size_t(b.rows) * b.cols, 0);
  for (int32_t i = 0; i < b.rows; i++) {
    const auto& r = rows[i];
    b.lengths.push_back(int32_t(r.size()));
    for (size_t t = 0; t < r.size(); t++) {
      b.ids[size_t(i) * b.cols + t] = r[t];
      b.mask[size_t(i) * b.cols + t] = 1;
    }
  }
  return b;
}

}  // namespace semcache::text
