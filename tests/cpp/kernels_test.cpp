// The index's dot-product kernels and the spaces built on them, against scalar references
// written out here. In the wasm build (ctest runs this suite under Node too) the kernels are
// SIMD128 code: the f32 reference repeats their summation order lane by lane, so every f32
// result must match bit for bit; integer sums are exact in any order. Natively f32 dot_f32 is an
// AVX2/FMA or plain loop, checked to within rounding, and the batched x2/x4 kernels must equal it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "index/kernels.h"
#include "index/spaces.h"
#include "test_vectors.h"

using namespace semcache;

namespace {

// dot_f32's SIMD128 order: 16 partial sums (four f32x4 accumulators) over blocks of 16, then
// blocks of 4 into the first accumulator, the four accumulators added pairwise, their lanes added
// pairwise, and the last n % 4 products added one by one. Each product is rounded before its add
// (wasm has no fused multiply-add).
[[maybe_unused]] float dotWasmOrder(const float* a, const float* b, size_t n) {
  float lane[16] = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t j = 0; j < 16; ++j) {
      float p = a[i + j] * b[i + j];
      lane[j] = lane[j] + p;
    }
  for (; i + 4 <= n; i += 4)
    for (size_t j = 0; j < 4; ++j) {
      float p = a[i + j] * b[i + j];
      lane[j] = lane[j] + p;
    }
  float v[4];
  for (size_t j = 0; j < 4; ++j) v[j] = (lane[j] + lane[4 + j]) + (lane[8 + j] + lane[12 + j]);
  float r = (v[0] + v[1]) + (v[2] + v[3]);
  for (; i < n; ++i) {
    float p = a[i] * b[i];
    r = r + p;
  }
  return r;
}

double dotExact(const float* a, const float* b, size_t n) {
  double r = 0;
  for (size_t i = 0; i < n; ++i) r += double(a[i]) * double(b[i]);
  return r;
}

template <class A, class B>
int32_t dotInt(const A* a, const B* b, size_t n) {
  int64_t r = 0;  // wider than the kernels: an overflow there would show as a mismatch
  for (size_t i = 0; i < n; ++i) r += int64_t(a[i]) * int64_t(b[i]);
  EXPECT_LE(std::llabs(r), int64_t(INT32_MAX)) << "test data must fit the kernels' int32 sums";
  return int32_t(r);
}

// Every tail length below two blocks, then the sizes embedders use, and odd ones past them.
std::vector<size_t> lengths() {
  std::vector<size_t> n;
  for (size_t i = 0; i <= 40; ++i) n.push_back(i);
  for (size_t i : {47, 63, 64, 65, 96, 100, 128, 255, 384, 511, 512, 515, 517, 768, 1024}) n.push_back(i);
  return n;
}

constexpr size_t kMax = 1024;

struct Data {
  std::vector<float> f;   // 5 rows of kMax + 3 (rows start at odd offsets below: unaligned loads)
  std::vector<int8_t> c;  // 5 rows, the full int8 range
  std::vector<int16_t> q;
  Data() {
    std::mt19937 rng(42);
    std::normal_distribution<float> g(0.f, 1.f);
    std::uniform_int_distribution<int> i8(-128, 127), i16(-16383, 16383);
    f.resize(5 * (kMax + 3));
    for (auto& x : f) x = g(rng);
    c.resize(5 * (kMax + 3));
    for (auto& x : c) x = int8_t(i8(rng));
    q.resize(kMax + 3);
    for (auto& x : q) x = int16_t(i16(rng));
  }
  const float* fr(int k) const { return f.data() + k * (kMax + 3) + (k % 3); }
  const int8_t* cr(int k) const { return c.data() + k * (kMax + 3) + (k % 3); }
};

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

}  // namespace

TEST(Kernels, F32DotIsBitExactAgainstItsScalarOrder) {
  Data d;
  const float* q = d.fr(0);
  for (size_t n : lengths()) {
    const float* p[4] = {d.fr(1), d.fr(2), d.fr(3), d.fr(4)};
    float single = kernels::dot_f32(q, p[0], n);
    float pair[2], quad[4];
    kernels::dot_f32_x2(q, p[0], p[1], n, pair);
    kernels::dot_f32_x4(q, p, n, quad);
#if defined(__wasm_simd128__)
    for (int k = 0; k < 4; ++k) {
      float ref = dotWasmOrder(q, p[k], n);
      EXPECT_EQ(bits(quad[k]), bits(ref)) << "dot_f32_x4 lane " << k << " n " << n;
      if (k < 2) EXPECT_EQ(bits(pair[k]), bits(ref)) << "dot_f32_x2 lane " << k << " n " << n;
    }
    EXPECT_EQ(bits(single), bits(dotWasmOrder(q, p[0], n))) << "dot_f32 n " << n;
#else
    EXPECT_NEAR(single, dotExact(q, p[0], n), 1e-5 * (1 + std::sqrt(double(n))));
    for (int k = 0; k < 4; ++k) EXPECT_EQ(bits(quad[k]), bits(kernels::dot_f32(q, p[k], n))) << n;
    for (int k = 0; k < 2; ++k) EXPECT_EQ(bits(pair[k]), bits(kernels::dot_f32(q, p[k], n))) << n;
#endif
    // Whatever the order, the sum is the dot product to within f32 rounding.
    EXPECT_NEAR(quad[3], dotExact(q, p[3], n), 1e-5 * (1 + std::sqrt(double(n))));
  }
}

TEST(Kernels, Int8DotsAreExact) {
  Data d;
  for (size_t n : lengths()) {
    EXPECT_EQ(kernels::dot_i8(d.cr(0), d.cr(1), n), dotInt(d.cr(0), d.cr(1), n)) << n;
    EXPECT_EQ(kernels::dot_i16_i8(d.q.data() + 1, d.cr(2), n), dotInt(d.q.data() + 1, d.cr(2), n)) << n;
    const int8_t* c[4] = {d.cr(1), d.cr(2), d.cr(3), d.cr(4)};
    int32_t pair[2], quad[4];
    kernels::dot_i16_i8_x2(d.q.data(), c[0], c[1], n, pair);
    kernels::dot_i16_i8_x4(d.q.data(), c, n, quad);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(quad[k], dotInt(d.q.data(), c[k], n)) << "x4 lane " << k << " n " << n;
    for (int k = 0; k < 2; ++k) EXPECT_EQ(pair[k], dotInt(d.q.data(), c[k], n)) << "x2 lane " << k << " n " << n;
    int32_t two[8];
    kernels::dot2_i16_i8_x4(d.q.data(), d.q.data() + 1, c, n, two);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(two[k], dotInt(d.q.data(), c[k], n)) << "dot2 first, lane " << k << " n " << n;
      EXPECT_EQ(two[4 + k], dotInt(d.q.data() + 1, c[k], n)) << "dot2 second, lane " << k << " n " << n;
    }
  }
}

// The largest magnitudes the int8 space produces (|code| <= 127 stored, |query| <= 16383 at
// 1024-d; -128 on the stored side too, for margin): the sums reach 2^31 - 2^17 without wrapping,
// so no kernel may narrow a partial sum below 32 bits.
TEST(Kernels, Int8DotsAtTheLargestMagnitudes) {
  std::vector<int16_t> q(kMax, -16383);
  std::vector<int8_t> c(kMax, -128), a(kMax, 127);
  const int8_t* four[4] = {c.data(), a.data(), c.data(), a.data()};
  int32_t quad[4], pair[2];
  kernels::dot_i16_i8_x4(q.data(), four, kMax, quad);
  kernels::dot_i16_i8_x2(q.data(), c.data(), a.data(), kMax, pair);
  EXPECT_EQ(kernels::dot_i16_i8(q.data(), c.data(), kMax), 16383 * 128 * int32_t(kMax));
  EXPECT_EQ(quad[0], 16383 * 128 * int32_t(kMax));
  EXPECT_EQ(quad[1], -16383 * 127 * int32_t(kMax));
  EXPECT_EQ(pair[0], quad[0]);
  EXPECT_EQ(pair[1], quad[1]);
  std::vector<int16_t> up(kMax, 16383);
  int32_t two[8];
  kernels::dot2_i16_i8_x4(q.data(), up.data(), four, kMax, two);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(two[k], quad[k]) << k;
  EXPECT_EQ(two[4], -quad[0]);
  EXPECT_EQ(two[5], -quad[1]);
  EXPECT_EQ(kernels::dot_i8(c.data(), c.data(), kMax), 128 * 128 * int32_t(kMax));
}

// VectorSpace::distances (the graph search's batched scoring, 4 and 2 points at a time plus a
// single one) against the distance hnswlib calls (get_dist_func) and against the formula written
// out: f32 1 - <q, p>; int8 1 - query scale * point scale * (integer dot of the codes).
TEST(Kernels, SpaceDistancesMatchTheirFormula) {
  for (size_t dim : {size_t(96), size_t(100), size_t(512), size_t(515)}) {
    auto v = semcache::testing::randomUnit(12, dim, uint32_t(dim));
    for (SpaceKind sk : {SpaceKind::F32, SpaceKind::Int8}) {
      auto space = makeSpace(sk, dim);
      const size_t pb = space->get_data_size();
      std::vector<uint8_t> query(space->queryBytes()), store(11 * pb);
      space->encodeQuery(&v[0], query.data());
      std::vector<const char*> points;
      for (size_t i = 0; i < 11; ++i) {
        space->encode(&v[(i + 1) * dim], &store[i * pb]);
        points.push_back(reinterpret_cast<const char*>(&store[i * pb]));
      }
      auto dist = space->get_dist_func();
      void* param = space->get_dist_func_param();
      for (size_t count = 0; count <= 11; ++count) {
        std::vector<float> out(count + 1, -7.f);
        space->distances(query.data(), points.data(), count, out.data());
        EXPECT_EQ(out[count], -7.f) << "wrote past count";
        for (size_t i = 0; i < count; ++i) {
          float ref;
          if (sk == SpaceKind::F32) {
#if defined(__wasm_simd128__)
            ref = 1.f - dotWasmOrder(&v[0], &v[(i + 1) * dim], dim);
#else
            ref = float(1 - dotExact(&v[0], &v[(i + 1) * dim], dim));
#endif
          } else {
            float qs, ps;
            std::memcpy(&qs, query.data() + 4, 4);
            std::memcpy(&ps, points[i], 4);
            int32_t dot = dotInt(reinterpret_cast<const int16_t*>(query.data() + 8),
                                 reinterpret_cast<const int8_t*>(points[i]) + 4, dim);
            float scaled = qs * ps;
            scaled = scaled * float(dot);
            ref = 1.f - scaled;
          }
#if defined(__wasm_simd128__)
          EXPECT_EQ(bits(out[i]), bits(ref)) << spaceName(sk) << " dim " << dim << " count " << count << " i " << i;
#else
          EXPECT_NEAR(out[i], ref, 2e-6) << spaceName(sk) << " dim " << dim << " count " << count << " i " << i;
#endif
          EXPECT_EQ(bits(out[i]), bits(dist(query.data(), points[i], param)))
              << "distances() and the distance function disagree: " << spaceName(sk) << " dim " << dim << " i " << i;
        }
      }
    }
  }
}
