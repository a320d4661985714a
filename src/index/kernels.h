#pragma once
// Dot-product kernels for the index spaces. In wasm they use SIMD128 (hnswlib's own kernels are
// SSE/AVX only and compile to scalar code there); natively f32 uses hnswlib's AVX kernels
// (see spaces.h) and int8 uses AVX2 when available.
#include <cstddef>
#include <cstdint>

namespace semcache::kernels {

float dot_f32(const float* a, const float* b, size_t n);
int32_t dot_i8(const int8_t* a, const int8_t* b, size_t n);
// Asymmetric: an f32 query against int8 codes (the query keeps its full precision).
float dot_f32_i8(const float* q, const int8_t* c, size_t n);

}  // namespace semcache::kernels
