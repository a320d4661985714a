#include "index/kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__AVX2__)
#include <immintrin.h>
#endif

namespace semcache::kernels {

#if defined(__wasm_simd128__)

float dot_f32(const float* a, const float* b, size_t n) {
  // Four independent accumulators hide the add latency; 16 floats per iteration.
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
  }
  for (; i + 4 <= n; i += 4)
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
  float r = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) +
            wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

int32_t dot_i8(const int8_t* a, const int8_t* b, size_t n) {
  // Widen i8 -> i16, then i32x4.dot_i16x8_s multiplies and adds pairs into i32 lanes.
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(va),
                                                 wasm_i16x8_extend_low_i8x16(vb)));
    s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(va),
                                                 wasm_i16x8_extend_high_i8x16(vb)));
  }
  v128_t s = wasm_i32x4_add(s0, s1);
  int32_t r = wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1) +
              wasm_i32x4_extract_lane(s, 2) + wasm_i32x4_extract_lane(s, 3);
  for (; i < n; ++i) r += int32_t(a[i]) * int32_t(b[i]);
  return r;
}

float dot_f32_i8(const float* q, const int8_t* c, size_t n) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t codes = wasm_v128_load(c + i);
    v128_t lo = wasm_i16x8_extend_low_i8x16(codes), hi = wasm_i16x8_extend_high_i8x16(codes);
    v128_t f0 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo));
    v128_t f1 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo));
    v128_t f2 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi));
    v128_t f3 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(q + i), f0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(q + i + 4), f1));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(q + i + 8), f2));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(q + i + 12), f3));
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
  float r = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) +
            wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
  for (; i < n; ++i) r += q[i] * float(c[i]);
  return r;
}

#else

float dot_f32(const float* a, const float* b, size_t n) {
  size_t i = 0;
  float r = 0.f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  __m256 s = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  r = _mm_cvtss_f32(h);
#endif
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

int32_t dot_i8(const int8_t* a, const int8_t* b, size_t n) {
  size_t i = 0;
  int32_t r = 0;
#if defined(__AVX2__)
  __m256i s = _mm256_setzero_si256();
  for (; i + 16 <= n; i += 16) {
    __m256i va = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    __m256i vb = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    s = _mm256_add_epi32(s, _mm256_madd_epi16(va, vb));
  }
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  r = _mm_cvtsi128_si32(h);
#endif
  for (; i < n; ++i) r += int32_t(a[i]) * int32_t(b[i]);
  return r;
}

float dot_f32_i8(const float* q, const int8_t* c, size_t n) {
  size_t i = 0;
  float r = 0.f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  for (; i + 16 <= n; i += 16) {
    __m128i codes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i));
    __m256 f0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes));
    __m256 f1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), f0, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), f1, s1);
  }
  __m256 s = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  r = _mm_cvtss_f32(h);
#endif
  for (; i < n; ++i) r += q[i] * float(c[i]);
  return r;
}

#endif


}  // namespace semcache::kernels
