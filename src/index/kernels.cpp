#include "index/kernels.h"

#include "common/simd.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__AVX2__)
#include <immintrin.h>
#endif

namespace semcache::kernels {

using simd::hsum;

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
  float r = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
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

int32_t dot_i16_i8(const int16_t* q, const int8_t* c, size_t n) {
  // (LLVM 14 scalarizes an i8 -> f32 conversion chain, so stay in integers: i32x4.dot_i16x8_s.)
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t codes = wasm_v128_load(c + i);
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_v128_load(q + i), wasm_i16x8_extend_low_i8x16(codes)));
    s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_v128_load(q + i + 8), wasm_i16x8_extend_high_i8x16(codes)));
  }
  v128_t s = wasm_i32x4_add(s0, s1);
  int32_t r = wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1) + wasm_i32x4_extract_lane(s, 2) +
              wasm_i32x4_extract_lane(s, 3);
  for (; i < n; ++i) r += int32_t(q[i]) * int32_t(c[i]);
  return r;
}


// Two points against one query at once: two independent load streams keep twice the cache
// misses in flight, and the query is loaded once. Each point's sum is formed in exactly the same
// order as dot_f32 / dot_i16_i8, so the results are bit-identical to the single kernels.
void dot_f32_x2(const float* q, const float* a, const float* b, size_t n, float* out) {
  v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t q0 = wasm_v128_load(q + i), q1 = wasm_v128_load(q + i + 4);
    v128_t q2 = wasm_v128_load(q + i + 8), q3 = wasm_v128_load(q + i + 12);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(q0, wasm_v128_load(a + i)));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q0, wasm_v128_load(b + i)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(q1, wasm_v128_load(a + i + 4)));
    b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(q1, wasm_v128_load(b + i + 4)));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(q2, wasm_v128_load(a + i + 8)));
    b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(q2, wasm_v128_load(b + i + 8)));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(q3, wasm_v128_load(a + i + 12)));
    b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(q3, wasm_v128_load(b + i + 12)));
  }
  for (; i + 4 <= n; i += 4) {
    v128_t q0 = wasm_v128_load(q + i);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(q0, wasm_v128_load(a + i)));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q0, wasm_v128_load(b + i)));
  }
  float ra = hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  float rb = hsum(wasm_f32x4_add(wasm_f32x4_add(b0, b1), wasm_f32x4_add(b2, b3)));
  for (; i < n; ++i) {
    ra += q[i] * a[i];
    rb += q[i] * b[i];
  }
  out[0] = ra;
  out[1] = rb;
}

void dot_i16_i8_x2(const int16_t* q, const int8_t* c, const int8_t* d, size_t n, int32_t* out) {
  v128_t c0 = wasm_i32x4_splat(0), c1 = c0, d0 = c0, d1 = c0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t qlo = wasm_v128_load(q + i), qhi = wasm_v128_load(q + i + 8);
    v128_t cv = wasm_v128_load(c + i), dv = wasm_v128_load(d + i);
    c0 = wasm_i32x4_add(c0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(cv)));
    d0 = wasm_i32x4_add(d0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(dv)));
    c1 = wasm_i32x4_add(c1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(cv)));
    d1 = wasm_i32x4_add(d1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(dv)));
  }
  v128_t sc = wasm_i32x4_add(c0, c1), sd = wasm_i32x4_add(d0, d1);
  int32_t rc = wasm_i32x4_extract_lane(sc, 0) + wasm_i32x4_extract_lane(sc, 1) + wasm_i32x4_extract_lane(sc, 2) +
               wasm_i32x4_extract_lane(sc, 3);
  int32_t rd = wasm_i32x4_extract_lane(sd, 0) + wasm_i32x4_extract_lane(sd, 1) + wasm_i32x4_extract_lane(sd, 2) +
               wasm_i32x4_extract_lane(sd, 3);
  for (; i < n; ++i) {
    rc += int32_t(q[i]) * int32_t(c[i]);
    rd += int32_t(q[i]) * int32_t(d[i]);
  }
  out[0] = rc;
  out[1] = rd;
}


void dot_i16_i8_x4(const int16_t* q, const int8_t* const* c, size_t n, int32_t* out) {
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
  const int8_t *pa = c[0], *pb = c[1], *pc = c[2], *pd = c[3];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t qlo = wasm_v128_load(q + i), qhi = wasm_v128_load(q + i + 8);
    v128_t va = wasm_v128_load(pa + i), vb = wasm_v128_load(pb + i);
    v128_t vc = wasm_v128_load(pc + i), vd = wasm_v128_load(pd + i);
    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(va)));
    b0 = wasm_i32x4_add(b0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(vb)));
    c0 = wasm_i32x4_add(c0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(vc)));
    d0 = wasm_i32x4_add(d0, wasm_i32x4_dot_i16x8(qlo, wasm_i16x8_extend_low_i8x16(vd)));
    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(va)));
    b1 = wasm_i32x4_add(b1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(vb)));
    c1 = wasm_i32x4_add(c1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(vc)));
    d1 = wasm_i32x4_add(d1, wasm_i32x4_dot_i16x8(qhi, wasm_i16x8_extend_high_i8x16(vd)));
  }
  v128_t s[4] = {wasm_i32x4_add(a0, a1), wasm_i32x4_add(b0, b1), wasm_i32x4_add(c0, c1), wasm_i32x4_add(d0, d1)};
  for (int k = 0; k < 4; ++k) {
    int32_t r = wasm_i32x4_extract_lane(s[k], 0) + wasm_i32x4_extract_lane(s[k], 1) +
                wasm_i32x4_extract_lane(s[k], 2) + wasm_i32x4_extract_lane(s[k], 3);
    for (size_t j = i; j < n; ++j) r += int32_t(q[j]) * int32_t(c[k][j]);
    out[k] = r;
  }
}


void dot2_i16_i8_x4(const int16_t* q, const int16_t* p, const int8_t* const* c, size_t n, int32_t* out) {
  // Each code vector is loaded and widened once for both queries; integer sums are exact, so
  // adding the low and high halves into one accumulator gives dot_i16_i8's results.
  v128_t z = wasm_i32x4_splat(0);
  v128_t qa[4] = {z, z, z, z}, pa[4] = {z, z, z, z};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t qlo = wasm_v128_load(q + i), qhi = wasm_v128_load(q + i + 8);
    v128_t plo = wasm_v128_load(p + i), phi = wasm_v128_load(p + i + 8);
    for (int k = 0; k < 4; ++k) {
      v128_t v = wasm_v128_load(c[k] + i);
      v128_t lo = wasm_i16x8_extend_low_i8x16(v), hi = wasm_i16x8_extend_high_i8x16(v);
      qa[k] = wasm_i32x4_add(qa[k], wasm_i32x4_add(wasm_i32x4_dot_i16x8(qlo, lo), wasm_i32x4_dot_i16x8(qhi, hi)));
      pa[k] = wasm_i32x4_add(pa[k], wasm_i32x4_add(wasm_i32x4_dot_i16x8(plo, lo), wasm_i32x4_dot_i16x8(phi, hi)));
    }
  }
  for (int k = 0; k < 4; ++k) {
    int32_t rq = wasm_i32x4_extract_lane(qa[k], 0) + wasm_i32x4_extract_lane(qa[k], 1) +
                 wasm_i32x4_extract_lane(qa[k], 2) + wasm_i32x4_extract_lane(qa[k], 3);
    int32_t rp = wasm_i32x4_extract_lane(pa[k], 0) + wasm_i32x4_extract_lane(pa[k], 1) +
                 wasm_i32x4_extract_lane(pa[k], 2) + wasm_i32x4_extract_lane(pa[k], 3);
    for (size_t j = i; j < n; ++j) rq += int32_t(q[j]) * int32_t(c[k][j]), rp += int32_t(p[j]) * int32_t(c[k][j]);
    out[k] = rq;
    out[4 + k] = rp;
  }
}

void dot_f32_x4(const float* q, const float* const* p, size_t n, float* out) {
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
  v128_t c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
  const float *pa = p[0], *pb = p[1], *pc = p[2], *pd = p[3];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t q0 = wasm_v128_load(q + i);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(q0, wasm_v128_load(pa + i)));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q0, wasm_v128_load(pb + i)));
    c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(q0, wasm_v128_load(pc + i)));
    d0 = wasm_f32x4_add(d0, wasm_f32x4_mul(q0, wasm_v128_load(pd + i)));
    v128_t q1 = wasm_v128_load(q + i + 4);
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(q1, wasm_v128_load(pa + i + 4)));
    b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(q1, wasm_v128_load(pb + i + 4)));
    c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(q1, wasm_v128_load(pc + i + 4)));
    d1 = wasm_f32x4_add(d1, wasm_f32x4_mul(q1, wasm_v128_load(pd + i + 4)));
    v128_t q2 = wasm_v128_load(q + i + 8);
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(q2, wasm_v128_load(pa + i + 8)));
    b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(q2, wasm_v128_load(pb + i + 8)));
    c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(q2, wasm_v128_load(pc + i + 8)));
    d2 = wasm_f32x4_add(d2, wasm_f32x4_mul(q2, wasm_v128_load(pd + i + 8)));
    v128_t q3 = wasm_v128_load(q + i + 12);
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(q3, wasm_v128_load(pa + i + 12)));
    b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(q3, wasm_v128_load(pb + i + 12)));
    c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(q3, wasm_v128_load(pc + i + 12)));
    d3 = wasm_f32x4_add(d3, wasm_f32x4_mul(q3, wasm_v128_load(pd + i + 12)));
  }
  if (i < n) {  // a short tail: finish each point exactly as dot_f32 would
    v128_t acc[4][4] = {{a0, a1, a2, a3}, {b0, b1, b2, b3}, {c0, c1, c2, c3}, {d0, d1, d2, d3}};
    for (int k = 0; k < 4; ++k) {
      v128_t s0 = acc[k][0];
      size_t j = i;
      for (; j + 4 <= n; j += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(q + j), wasm_v128_load(p[k] + j)));
      float r = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, acc[k][1]), wasm_f32x4_add(acc[k][2], acc[k][3])));
      for (; j < n; ++j) r += q[j] * p[k][j];
      out[k] = r;
    }
    return;
  }
  out[0] = hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  out[1] = hsum(wasm_f32x4_add(wasm_f32x4_add(b0, b1), wasm_f32x4_add(b2, b3)));
  out[2] = hsum(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)));
  out[3] = hsum(wasm_f32x4_add(wasm_f32x4_add(d0, d1), wasm_f32x4_add(d2, d3)));
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
  r = hsum(_mm256_add_ps(s0, s1));
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
  r = hsum(s);
#endif
  for (; i < n; ++i) r += int32_t(a[i]) * int32_t(b[i]);
  return r;
}

int32_t dot_i16_i8(const int16_t* q, const int8_t* c, size_t n) {
  size_t i = 0;
  int32_t r = 0;
#if defined(__AVX2__)
  __m256i s = _mm256_setzero_si256();
  for (; i + 16 <= n; i += 16) {
    __m256i codes = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
    __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i));
    s = _mm256_add_epi32(s, _mm256_madd_epi16(qv, codes));
  }
  r = hsum(s);
#endif
  for (; i < n; ++i) r += int32_t(q[i]) * int32_t(c[i]);
  return r;
}


void dot_f32_x2(const float* q, const float* a, const float* b, size_t n, float* out) {
  out[0] = dot_f32(q, a, n);
  out[1] = dot_f32(q, b, n);
}

void dot_i16_i8_x2(const int16_t* q, const int8_t* c, const int8_t* d, size_t n, int32_t* out) {
  out[0] = dot_i16_i8(q, c, n);
  out[1] = dot_i16_i8(q, d, n);
}


void dot_i16_i8_x4(const int16_t* q, const int8_t* const* c, size_t n, int32_t* out) {
  for (int k = 0; k < 4; ++k) out[k] = dot_i16_i8(q, c[k], n);
}

void dot2_i16_i8_x4(const int16_t* q, const int16_t* p, const int8_t* const* c, size_t n, int32_t* out) {
  for (int k = 0; k < 4; ++k) out[k] = dot_i16_i8(q, c[k], n), out[4 + k] = dot_i16_i8(p, c[k], n);
}


void dot_f32_x4(const float* q, const float* const* p, size_t n, float* out) {
  for (int k = 0; k < 4; ++k) out[k] = dot_f32(q, p[k], n);
}

#endif


}  // namespace semcache::kernels
