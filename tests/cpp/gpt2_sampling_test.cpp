#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "common/error.h"
#include "gpt2/kernels.h"
#include "gpt2/sampling.h"

using namespace semcache::gpt2;

TEST(Gpt2Sampling, RngStreamIsFixed) {
  // the same values are asserted on the wasm build (tests/js/gpt2_model.test.mjs)
  Rng r(42);
  EXPECT_EQ(r.next_u32(), 1898997482u);
  EXPECT_EQ(r.next_u32(), 1014631766u);
  EXPECT_EQ(r.next_u32(), 4096008554u);
  EXPECT_EQ(r.next_u32(), 633901381u);
}

TEST(Gpt2Sampling, GreedyTopKTopPAndTemperature) {
  std::vector<float> logits = {0.0f, 3.0f, 2.9f, -1.0f, 3.0f};
  std::vector<std::pair<float, int>> scratch;
  Rng rng(1);
  EXPECT_EQ(argmax(logits.data(), 5), 1);  // lowest id among ties
  SamplingOptions greedy;
  greedy.temperature = 0;
  EXPECT_EQ(sample_token(logits.data(), 5, greedy, rng, scratch), 1);

  // top_k = 2 keeps ids 1 and 4 (ties broken by id), never 2
  SamplingOptions k2;
  k2.top_k = 2;
  std::map<int, int> seen;
  for (int i = 0; i < 2000; i++) seen[sample_token(logits.data(), 5, k2, rng, scratch)]++;
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_GT(seen[1], 800);
  EXPECT_GT(seen[4], 800);

  // top_p small keeps only the top token
  SamplingOptions p;
  p.top_p = 0.1f;
  for (int i = 0; i < 100; i++) EXPECT_EQ(sample_token(logits.data(), 5, p, rng, scratch), 1);

  // plain sampling follows softmax: id 0 (logit 0) ~ e^0 / sum
  SamplingOptions t1;
  std::map<int, int> all;
  const int N = 40000;
  for (int i = 0; i < N; i++) all[sample_token(logits.data(), 5, t1, rng, scratch)]++;
  double z = 0;
  for (float l : logits) z += std::exp(l);
  EXPECT_NEAR(all[0] / double(N), 1.0 / z, 0.01);
  EXPECT_NEAR(all[2] / double(N), std::exp(2.9) / z, 0.015);

  SamplingOptions bad;
  bad.top_p = 1.5f;
  EXPECT_THROW(sample_token(logits.data(), 5, bad, rng, scratch), semcache::Error);
}

TEST(Gpt2Kernels, HalfConversionRoundTripsEveryFiniteHalf) {
  for (uint32_t h = 0; h < 65536; h++) {
    if ((h & 0x7c00) == 0x7c00) continue;  // inf / nan
    float f = f16_to_f32(uint16_t(h));
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(f32_to_f16(70000.0f), 0x7c00);
}

class Gpt2KernelShapes : public ::testing::TestWithParam<int> {};

// C = 37: tails in columns (row-major int8); C = 48: interleaved int8 blocks plus 3 tail rows
TEST_P(Gpt2KernelShapes, MatmulMatchesNaiveForEveryFormat) {
  const int T = 7, R = 7, C = GetParam();  // tails in rows and token tiles too
  std::vector<float> x(T * C), w(R * C), b(R);
  uint32_t s = 99;
  auto rnd = [&] {
    s = s * 1664525u + 1013904223u;
    return float(int(s >> 9) % 2001 - 1000) / 1000.0f;
  };
  for (auto& v : x) v = rnd();
  for (auto& v : w) v = rnd();
  for (auto& v : b) v = rnd();
  for (WeightFormat fmt : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8}) {
    std::vector<uint8_t> store(R * C * 4);
    std::vector<float> scales(R);
    quantize_rows(w.data(), R, C, fmt, store.data(), scales.data());
    QMatrix q{fmt, store.data(), scales.data(), R, C};
    std::vector<float> out(T * R);
    MatmulScratch mm;
    matmul(out.data(), x.data(), q, b.data(), T, mm);
    float tol = fmt == WeightFormat::F32 ? 1e-5f : fmt == WeightFormat::F16 ? 5e-3f : 5e-2f;
    for (int t = 0; t < T; t++)
      for (int r = 0; r < R; r++) {
        double ref = b[r];
        for (int i = 0; i < C; i++) ref += double(x[t * C + i]) * w[r * C + i];
        EXPECT_NEAR(out[t * R + r], ref, tol) << format_name(fmt) << " t=" << t << " r=" << r;
      }
    // dequantize_row reads the stored layout back
    std::vector<float> row(C);
    for (int r = 0; r < R; r++) {
      dequantize_row(q, r, row.data());
      for (int i = 0; i < C; i++) ASSERT_NEAR(row[i], w[r * C + i], fmt == WeightFormat::Int8 ? 5e-3 : 1e-3) << r << "," << i;
    }
    // each row alone gives the same bits as inside a batch (tiled with other rows or not)
    std::vector<float> one(R);
    for (int t = 0; t < T; t++) {
      matmul(one.data(), x.data() + t * C, q, b.data(), 1, mm);
      for (int r = 0; r < R; r++) EXPECT_EQ(one[r], out[t * R + r]) << format_name(fmt) << " t=" << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Widths, Gpt2KernelShapes, ::testing::Values(37, 48));
