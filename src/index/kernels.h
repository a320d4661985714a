#pragma once
// Dot-product kernels for the index spaces. In wasm they use SIMD128 (hnswlib's own kernels are
// SSE/AVX only and compile to scalar code there); natively f32 uses hnswlib's AVX kernels
// (see spaces.h) and int8 uses AVX2 when available.
#include <cstddef>
#include <cstdint>

namespace semcache::kernels {

float dot_f32(const float* a, const float* b, size_t n);
int32_t dot_i8(const int8_t* a, const int8_t* b, size_t n);
// Asymmetric: a (up to) 15-bit query against int8 codes, so that only the stored side is coarse.
// The caller bounds |q| so that the exact sum fits in int32 (see Int8Space::encodeQuery).
int32_t dot_i16_i8(const int16_t* q, const int8_t* c, size_t n);
// Two points against one query (out[0] for a / c, out[1] for b / d), bit-identical to two calls
// of the single kernels: the graph search scores neighbours in pairs to overlap their cache misses.
void dot_f32_x2(const float* q, const float* a, const float* b, size_t n, float* out);
void dot_f32_x4(const float* q, const float* const* p, size_t n, float* out);  // bit-identical to dot_f32
void dot_i16_i8_x2(const int16_t* q, const int8_t* c, const int8_t* d, size_t n, int32_t* out);
// Four codes at once (out[k] for c[k]), bit-identical to dot_i16_i8: int8 points are short (9 cache
// lines at 512-d), so more of them in flight pays.
void dot_i16_i8_x4(const int16_t* q, const int8_t* const* c, size_t n, int32_t* out);
// Two queries against four codes (out[k] for q, out[4 + k] for p), equal to dot_i16_i8: a matrix
// applied to two vectors (the learned evaluator's projection) reads each row once.
void dot2_i16_i8_x4(const int16_t* q, const int16_t* p, const int8_t* const* c, size_t n, int32_t* out);

}  // namespace semcache::kernels
