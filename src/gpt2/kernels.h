#pragma once
// Matmul and helper kernels for the GPT-2 forward pass. Weights are stored (out, in) so that an
// output is one dot product over a row; a decoded token reads every weight exactly once. Blocks
// of 4 rows are interleaved in 16-column chunks (kernels.cpp, elem_offset) so the 4-row kernel
// streams memory sequentially; use dequantize_row, not raw indexing, to read a row back.
// Three storage formats, chosen at load: f32, f16 (IEEE half; magnitudes below 2^-14 rounded to
// 0 or 2^-14), int8 with one f32 scale per row.
// Each output element is computed by the same instruction sequence whatever the number of rows T
// in the batch, so prefill, step and the no-cache path give bit-identical logits.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace semcache::gpt2 {

enum class WeightFormat { F32 = 0, F16 = 1, Int8 = 2 };
const char* format_name(WeightFormat f);

// W is (rows, cols): rows = output features, cols = input features (layout: see above).
struct QMatrix {
  WeightFormat fmt = WeightFormat::F32;
  const void* data = nullptr;     // float*, uint16_t* (f16) or int8_t*
  const float* scale = nullptr;   // int8 only: one scale per row, w = q * scale[row]
  int rows = 0;
  int cols = 0;
};

// Per-call scratch for the int8 path: activations quantized to int16 with one scale per row.
struct MatmulScratch {
  std::vector<int16_t> xq;
  std::vector<float> xs;
};

// out (T, w.rows) = inp (T, w.cols) @ W^T + bias (bias may be null)
void matmul(float* out, const float* inp, const QMatrix& w, const float* bias, int T,
            MatmulScratch& scratch);

// dst (w.cols) = row r of W, dequantized
void dequantize_row(const QMatrix& w, int r, float* dst);

// Sum of a[i]*b[i]; fixed summation order (SIMD lanes then lanes summed) for reproducibility.
float dot(const float* a, const float* b, int n);
// y (n) += a * x (n)
void axpy(float* y, float a, const float* x, int n);

// IEEE binary16 <-> binary32 (round to nearest even; overflow to inf).
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

// Quantize src (rows, cols) into the storage of `fmt` at dst (+ scales for int8).
void quantize_rows(const float* src, int rows, int cols, WeightFormat fmt, void* dst, float* scales);

}  // namespace semcache::gpt2
