#pragma once
// Seeded random unit vectors for the index and cache tests.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace semcache::testing {

inline void normalizeRow(float* v, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; ++i) s += double(v[i]) * v[i];
  float inv = float(1 / std::sqrt(s));
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

// n x dim, each row uniform on the unit sphere.
inline std::vector<float> randomUnit(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(n * dim);
  for (auto& x : v) x = g(rng);
  for (size_t i = 0; i < n; ++i) normalizeRow(&v[i * dim], dim);
  return v;
}

// A unit vector near `base` (cosine about 1 / sqrt(1 + noise^2 * dim)).
inline std::vector<float> near(const float* base, size_t dim, float noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, noise);
  std::vector<float> v(base, base + dim);
  for (auto& x : v) x += g(rng);
  normalizeRow(v.data(), dim);
  return v;
}

}  // namespace semcache::testing
