#include "gpt2/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "common/simd.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define SEMCACHE_WASM_SIMD 1
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define SEMCACHE_AVX2 1
#endif

namespace semcache::gpt2 {

const char* format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Int8: return "int8";
  }
  return "?";
}

// ----------------------------------------------------------------------------
// half precision

float f16_to_f32(uint16_t h) {
  // Reinterpret the 15 magnitude bits as a (possibly denormal) f32 and rescale by 2^112: exact for
  // every finite half, zero and subnormals included. Weights are checked finite before storage.
  uint32_t mag = uint32_t(h & 0x7fff) << 13, sign = uint32_t(h & 0x8000) << 16;
  float f;
  std::memcpy(&f, &mag, 4);
  f *= 0x1p112f;
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return uint16_t(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));
  if (ax >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds to >= 65520: inf
  if (ax < 0x38800000) {                                  // below the smallest normal half
    if (ax < 0x33000000) return uint16_t(sign);           // rounds to zero
    uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;                             // 14 + (113 - e) - ... puts m at 2^-24 units
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return uint16_t(sign | q);
  }
  uint32_t r = ax - 0x38000000;  // rebias exponent 127 -> 15 (in the shifted position)
  uint32_t q = r >> 13, rem = r & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++;
  return uint16_t(sign | q);
}

// ----------------------------------------------------------------------------
// quantization

// Layout (every format): each block of 4 full rows is stored interleaved in 16-column chunks
// ([r0 c0..15][r1 c0..15][r2 c0..15][r3 c0..15][r0 c16..31]...), so a 4-row dot product reads
// one sequential stream instead of four short ones (int8 at 768-byte rows: 2.7x the bandwidth).
// Rows after the last full block, and matrices whose width is not a multiple of 16, stay
// row-major. Offsets are in elements.
static bool interleaved(int rows, int cols, int r) { return cols % 16 == 0 && r < (rows & ~3); }

static size_t elem_offset(int rows, int cols, int r, int c) {
  if (!interleaved(rows, cols, r)) return size_t(r) * cols + c;
  return size_t(r & ~3) * cols + size_t(c / 16) * 64 + (r & 3) * 16 + (c % 16);
}

void quantize_rows(const float* src, int rows, int cols, WeightFormat fmt, void* dst, float* scales) {
  size_t n = size_t(rows) * cols;
  (void)n;
  if (fmt == WeightFormat::F32) {
    float* d = static_cast<float*>(dst);
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++) d[elem_offset(rows, cols, r, c)] = src[size_t(r) * cols + c];
  } else if (fmt == WeightFormat::F16) {
    uint16_t* d = static_cast<uint16_t*>(dst);
    for (size_t i = 0; i < n; i++) {
      if (std::fabs(src[i]) > 65504.0f)
        throw Error(codes::kUnsupportedModel, "a weight of magnitude " + std::to_string(std::fabs(src[i])) +
                                             " does not fit in f16 (max 65504): use f32 or int8");
      // No subnormal halves (|w| < 2^-14): widening them goes through a denormal f32, which costs
      // a microcode assist per instruction on many x86 cores. They round to 0 or +-2^-14.
      uint16_t h = f32_to_f16(src[i]);
      if ((h & 0x7c00) == 0) h = uint16_t((h & 0x8000) | ((h & 0x3ff) >= 0x200 ? 0x400 : 0));
      d[elem_offset(rows, cols, int(i / cols), int(i % cols))] = h;
    }
  } else {
    int8_t* d = static_cast<int8_t*>(dst);
    for (int r = 0; r < rows; r++) {
      const float* s = src + size_t(r) * cols;
      float amax = 0.0f;
      for (int i = 0; i < cols; i++) amax = std::max(amax, std::fabs(s[i]));
      float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
      scales[r] = scale;
      for (int i = 0; i < cols; i++) {
        long q = std::lrintf(s[i] / scale);
        d[elem_offset(rows, cols, r, i)] = int8_t(std::clamp(q, -127L, 127L));
      }
    }
  }
}

void dequantize_row(const QMatrix& w, int r, float* dst) {
  auto off = [&](int c) { return elem_offset(w.rows, w.cols, r, c); };
  if (w.fmt == WeightFormat::F32) {
    const float* s = static_cast<const float*>(w.data);
    for (int i = 0; i < w.cols; i++) dst[i] = s[off(i)];
  } else if (w.fmt == WeightFormat::F16) {
    const uint16_t* s = static_cast<const uint16_t*>(w.data);
    for (int i = 0; i < w.cols; i++) dst[i] = f16_to_f32(s[off(i)]);
  } else {
    const int8_t* s = static_cast<const int8_t*>(w.data);
    for (int i = 0; i < w.cols; i++) dst[i] = float(s[off(i)]) * w.scale[r];
  }
}

// ----------------------------------------------------------------------------
// SIMD helpers

namespace {

#if SEMCACHE_WASM_SIMD
constexpr int kLanes = 4;
using simd::hsum;
inline v128_t fma4(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
// 4 halves sign-extended to i32 lanes -> 4 floats (the trick of f16_to_f32). Shifting the
// sign-extended value left by 13 puts the sign at bit 31 and the magnitude at bits 13..27; bits
// 28..30 hold copies of the sign and are cleared. Stored halves are never subnormal (see
// quantize_rows), so the intermediate float is never denormal.
inline v128_t half4(v128_t h) {
  v128_t bits = wasm_v128_and(wasm_i32x4_shl(h, 13), wasm_i32x4_splat(int32_t(0x8FFFFFFFu)));
  return wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
}
#elif SEMCACHE_AVX2
constexpr int kLanes = 8;
using simd::hsum;
#endif

// Tiles of 4 output rows x NT input rows: each weight vector is loaded (and, for f16/int8,
// widened) once per NT input rows. Every output is one accumulator fed the same operations in the
// same order whatever NT is (NT > 1 for batches, 1 for single rows and leftovers), so results
// never depend on how many rows were computed together. Tails (n not a multiple of the vector
// width) go through one out-of-line function for the same reason.
#if defined(__AVX512VL__)
constexpr int kTileT = 4;  // 32 vector registers: 16 accumulators fit
#else
constexpr int kTileT = 2;  // 16 vector registers (SSE/AVX2, and V8's wasm SIMD on x64)
#endif

// A weight as float: f32 as is, f16 widened.
inline float widen(float w) { return w; }
inline float widen(uint16_t h) { return f16_to_f32(h); }
#if SEMCACHE_AVX2
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
#endif

template <class W>
__attribute__((noinline)) float tail_f(const float* x, const W* w, int i, int n, float s) {
  for (; i < n; i++) s += x[i] * widen(w[i]);
  return s;
}

// o[t][k] = sum_i x[t][i] * w[k][i], for float weights W: f32 (float) or f16 (uint16_t).
// IL: the 4 rows are one interleaved block starting at w[0] (see elem_offset); n % 16 == 0.
template <int NT, bool IL, class W>
void tile_f(const float* const* x, const W* const* w, int n, float (*o)[4]) {
  int i = 0;
  auto at = [&](int k, int j) { return IL ? w[0] + (j & ~15) * 4 + 16 * k + (j & 15) : w[k] + j; };
#if SEMCACHE_WASM_SIMD
  v128_t acc[NT][4];
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) acc[t][k] = wasm_f32x4_splat(0);
  if constexpr (sizeof(W) == 4) {
    for (; i + 4 <= n; i += 4) {
      v128_t wv[4];
      for (int k = 0; k < 4; k++) wv[k] = wasm_v128_load(at(k, i));
      for (int t = 0; t < NT; t++) {
        v128_t xv = wasm_v128_load(x[t] + i);
        for (int k = 0; k < 4; k++) acc[t][k] = fma4(acc[t][k], xv, wv[k]);
      }
    }
  } else {
    // 8 halves per load, widened to two vectors of 4 floats
    for (; i + 8 <= n; i += 8) {
      v128_t lo[4], hi[4];
      for (int k = 0; k < 4; k++) {
        v128_t h = wasm_v128_load(at(k, i));
        lo[k] = half4(wasm_i32x4_extend_low_i16x8(h));
        hi[k] = half4(wasm_i32x4_extend_high_i16x8(h));
      }
      for (int t = 0; t < NT; t++) {
        v128_t xl = wasm_v128_load(x[t] + i), xh = wasm_v128_load(x[t] + i + 4);
        for (int k = 0; k < 4; k++) acc[t][k] = fma4(fma4(acc[t][k], xl, lo[k]), xh, hi[k]);
      }
    }
  }
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = hsum(acc[t][k]);
#elif SEMCACHE_AVX2
  __m256 acc[NT][4];
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) acc[t][k] = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    __m256 wv[4];
    for (int k = 0; k < 4; k++) wv[k] = load8(at(k, i));
    for (int t = 0; t < NT; t++) {
      __m256 xv = _mm256_loadu_ps(x[t] + i);
      for (int k = 0; k < 4; k++) acc[t][k] = _mm256_fmadd_ps(xv, wv[k], acc[t][k]);
    }
  }
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = hsum(acc[t][k]);
#else
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = 0.0f;
#endif
  if (i < n)
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) o[t][k] = tail_f(x[t], w[k], i, n, o[t][k]);
}

// Integer dot products of int16 activations with int8 weights, summed exactly in int32 over
// blocks of 1024 inputs (at most 256 products of |32767*127| per lane: < 2^31), then in f32.
// Integer sums are exact, so the grouping cannot change a result.
constexpr int kIntBlock = 1024;

template <int NT, bool IL>
void tile_i8(const int16_t* const* x, const int8_t* const* w, int n, float (*o)[4]) {
  int n16 = n & ~15;
  auto at = [&](int k, int i) { return IL ? w[0] + 4 * i + 16 * k : w[k] + i; };  // i % 16 == 0 here
#if SEMCACHE_WASM_SIMD
  v128_t facc[NT][4];
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) facc[t][k] = wasm_f32x4_splat(0);
  for (int b = 0; b < n16; b += kIntBlock) {
    int e = std::min(n16, b + kIntBlock);
    v128_t acc[NT][4];
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) acc[t][k] = wasm_i32x4_splat(0);
    for (int i = b; i < e; i += 16) {
      v128_t lo[4], hi[4];
      for (int k = 0; k < 4; k++) {
        v128_t q = wasm_v128_load(at(k, i));
        lo[k] = wasm_i16x8_extend_low_i8x16(q);
        hi[k] = wasm_i16x8_extend_high_i8x16(q);
      }
      for (int t = 0; t < NT; t++) {
        v128_t xl = wasm_v128_load(x[t] + i), xh = wasm_v128_load(x[t] + i + 8);
        for (int k = 0; k < 4; k++)
          acc[t][k] = wasm_i32x4_add(acc[t][k], wasm_i32x4_add(wasm_i32x4_dot_i16x8(xl, lo[k]),
                                                               wasm_i32x4_dot_i16x8(xh, hi[k])));
      }
    }
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) facc[t][k] = wasm_f32x4_add(facc[t][k], wasm_f32x4_convert_i32x4(acc[t][k]));
  }
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = hsum(facc[t][k]);
#elif SEMCACHE_AVX2
  __m256 facc[NT][4];
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) facc[t][k] = _mm256_setzero_ps();
  for (int b = 0; b < n16; b += kIntBlock) {
    int e = std::min(n16, b + kIntBlock);
    __m256i acc[NT][4];
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) acc[t][k] = _mm256_setzero_si256();
    for (int i = b; i < e; i += 16) {
      __m256i wv[4];
      for (int k = 0; k < 4; k++) wv[k] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)at(k, i)));
      for (int t = 0; t < NT; t++) {
        __m256i xv = _mm256_loadu_si256((const __m256i*)(x[t] + i));
        for (int k = 0; k < 4; k++) acc[t][k] = _mm256_add_epi32(acc[t][k], _mm256_madd_epi16(xv, wv[k]));
      }
    }
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) facc[t][k] = _mm256_add_ps(facc[t][k], _mm256_cvtepi32_ps(acc[t][k]));
  }
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = hsum(facc[t][k]);
#else
  n16 = 0;
  for (int t = 0; t < NT; t++)
    for (int k = 0; k < 4; k++) o[t][k] = 0.0f;
#endif
  if (n16 < n)
    for (int t = 0; t < NT; t++)
      for (int k = 0; k < 4; k++) {
        int64_t s = 0;
        for (int i = n16; i < n; i++) s += int64_t(x[t][i]) * w[k][i];
        o[t][k] += float(s);
      }
}

template <int NT, class W>
void tile_f_rows(bool il, const float* const* xs, const void* const* rows, int C, float (*o)[4]) {
  auto ws = reinterpret_cast<const W* const*>(rows);
  if (il) tile_f<NT, true>(xs, ws, C, o);
  else tile_f<NT, false>(xs, ws, C, o);
}

// Runs tile<NT> over tokens [t0, t0 + NT) for the row block whose row pointers are given.
template <int NT>
void run_tile(const QMatrix& w, const void* const* rows, bool il, const float* inp, const int16_t* xq, int t0,
              float (*o)[4]) {
  const int C = w.cols;
  if (w.fmt == WeightFormat::F32 || w.fmt == WeightFormat::F16) {
    const float* xs[NT];
    for (int t = 0; t < NT; t++) xs[t] = inp + size_t(t0 + t) * C;
    if (w.fmt == WeightFormat::F32) tile_f_rows<NT, float>(il, xs, rows, C, o);
    else tile_f_rows<NT, uint16_t>(il, xs, rows, C, o);
  } else {
    const int16_t* xs[NT];
    for (int t = 0; t < NT; t++) xs[t] = xq + size_t(t0 + t) * C;
    if (il) tile_i8<NT, true>(xs, reinterpret_cast<const int8_t* const*>(rows), C, o);
    else tile_i8<NT, false>(xs, reinterpret_cast<const int8_t* const*>(rows), C, o);
  }
}

}  // namespace

// ----------------------------------------------------------------------------
// matmul

void matmul(float* out, const float* inp, const QMatrix& w, const float* bias, int T,
            MatmulScratch& scratch) {
  const int R = w.rows, C = w.cols;
  const int16_t* xq = nullptr;
  const float* xs = nullptr;
  if (w.fmt == WeightFormat::Int8) {
    // activations (T, C) -> int16 with one scale per row: 15 bits keep the error far below int8's
    scratch.xq.resize(size_t(T) * C);
    scratch.xs.resize(T);
    for (int t = 0; t < T; t++) {
      const float* x = inp + size_t(t) * C;
      float amax = 0.0f;
      for (int i = 0; i < C; i++) amax = std::max(amax, std::fabs(x[i]));
      float sc = amax > 0.0f ? amax / 32767.0f : 1.0f;
      float inv = 1.0f / sc;
      int16_t* q = scratch.xq.data() + size_t(t) * C;
      for (int i = 0; i < C; i++) q[i] = int16_t(std::clamp(std::lrintf(x[i] * inv), -32767L, 32767L));
      scratch.xs[t] = sc;
    }
    xq = scratch.xq.data();
    xs = scratch.xs.data();
  }
  const size_t esize = w.fmt == WeightFormat::F32 ? 4 : w.fmt == WeightFormat::F16 ? 2 : 1;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  // Row blocks outside, tokens inside: a block's 4 weight rows stay in cache across all T inputs.
  for (int r0 = 0; r0 < R; r0 += 4) {
    int rr[4];
    const void* rows[4];
    for (int k = 0; k < 4; k++) {
      rr[k] = std::min(r0 + k, R - 1);  // the tail block repeats the last row
      rows[k] = base + size_t(rr[k]) * C * esize;
    }
    // an interleaved block starts where its first row would (rows[0])
    const bool il = interleaved(R, C, r0);
    auto emit = [&](int t, const float* o) {
      float* y = out + size_t(t) * R;
      for (int k = 0; k < 4 && r0 + k < R; k++) {
        float v = w.fmt == WeightFormat::Int8 ? o[k] * (xs[t] * w.scale[rr[k]]) : o[k];
        y[r0 + k] = bias ? v + bias[r0 + k] : v;
      }
    };
    int t = 0;
    for (; t + kTileT <= T; t += kTileT) {
      float o[kTileT][4];
      run_tile<kTileT>(w, rows, il, inp, xq, t, o);
      for (int j = 0; j < kTileT; j++) emit(t + j, o[j]);
    }
    for (; t < T; t++) {
      float o[1][4];
      run_tile<1>(w, rows, il, inp, xq, t, o);
      emit(t, o[0]);
    }
  }
}

float dot(const float* a, const float* b, int n) {
  int i = 0;
  float s = 0.0f;
#if SEMCACHE_WASM_SIMD
  v128_t acc = wasm_f32x4_splat(0);
  for (; i + 4 <= n; i += 4) acc = fma4(acc, wasm_v128_load(a + i), wasm_v128_load(b + i));
  s = hsum(acc);
#elif SEMCACHE_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  s = hsum(acc);
#endif
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

void axpy(float* y, float a, const float* x, int n) {
  int i = 0;
#if SEMCACHE_WASM_SIMD
  v128_t av = wasm_f32x4_splat(a);
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, fma4(wasm_v128_load(y + i), av, wasm_v128_load(x + i)));
#elif SEMCACHE_AVX2
  __m256 av = _mm256_set1_ps(a);
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
#endif
  for (; i < n; i++) y[i] += a * x[i];
}

}  // namespace semcache::gpt2
