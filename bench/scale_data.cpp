// Embedding-shaped synthetic vectors for the `scale` bench (bench/scale.mjs --data embedding):
// draws from a Gaussian with the mean and covariance of real sentence embeddings (the default
// encoder's, of QQP questions), normalized. A million real questions are not at hand, and the
// clustered data (bench/lib/clustered.mjs) is isotropic inside each cluster: 512 dimensions of
// pure noise, which no real encoder produces. Real embeddings spread their variance over a few
// dozen directions; a graph index lives or dies by that (intrinsic dimension), so this draws
// with the real spectrum. Vector i is a pure function of (seed, i).
//   scale_data EMBEDDINGS DIM SEED FROM COUNT OUT
//     EMBEDDINGS: n x DIM f32 (real embeddings); OUT: COUNT x DIM f32, vectors FROM..FROM+COUNT-1.
// Prints to stderr the participation ratio of the covariance's spectrum ((sum l)^2 / sum l^2,
// an effective dimension: 512 for isotropic noise).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// splitmix64, then Box-Muller: portable (the same vectors from every compiler and platform)
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return double((next() >> 11) + 1) / 9007199254740993.0; }  // (0, 1]
  void gauss2(double& a, double& b) {
    double m = std::sqrt(-2 * std::log(uniform())), t = 6.283185307179586 * uniform();
    a = m * std::cos(t), b = m * std::sin(t);
  }
};

// Lower Cholesky factor of the symmetric positive definite c (d x d, row-major), in place.
bool cholesky(std::vector<double>& c, size_t d) {
  for (size_t j = 0; j < d; ++j) {
    double s = c[j * d + j];
    for (size_t k = 0; k < j; ++k) s -= c[j * d + k] * c[j * d + k];
    if (s <= 0) return false;
    c[j * d + j] = std::sqrt(s);
    for (size_t i = j + 1; i < d; ++i) {
      double t = c[i * d + j];
      for (size_t k = 0; k < j; ++k) t -= c[i * d + k] * c[j * d + k];
      c[i * d + j] = t / c[j * d + j];
    }
    for (size_t k = j + 1; k < d; ++k) c[j * d + k] = 0;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: scale_data EMBEDDINGS DIM SEED FROM COUNT OUT\n");
    return 2;
  }
  const size_t d = std::stoul(argv[2]);
  const uint64_t seed = std::stoull(argv[3]);
  const size_t from = std::stoul(argv[4]), count = std::stoul(argv[5]);
  FILE* ef = std::fopen(argv[1], "rb");
  if (!ef) return std::perror(argv[1]), 1;
  std::vector<float> e;
  for (float buf[4096]; size_t got = std::fread(buf, 4, 4096, ef);) e.insert(e.end(), buf, buf + got);
  std::fclose(ef);
  const size_t n = e.size() / d;
  if (n < 2 * d) return std::fprintf(stderr, "%zu embeddings: need at least %zu for a %zu-d covariance\n", n, 2 * d, d), 1;

  // mean (d), covariance (d x d) of the real embeddings
  std::vector<double> mean(d, 0), cov(d * d, 0), x(d);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) mean[j] += e[i * d + j] / double(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) x[j] = e[i * d + j] - mean[j];
    for (size_t j = 0; j < d; ++j)
      for (size_t k = 0; k <= j; ++k) cov[j * d + k] += x[j] * x[k];
  }
  double trace = 0, frob = 0;
  for (size_t j = 0; j < d; ++j)
    for (size_t k = 0; k <= j; ++k) {
      cov[j * d + k] /= double(n - 1);
      cov[k * d + j] = cov[j * d + k];
    }
  for (size_t j = 0; j < d; ++j) trace += cov[j * d + j];
  for (size_t j = 0; j < d * d; ++j) frob += cov[j] * cov[j];  // sum of squared eigenvalues
  std::fprintf(stderr, "scale_data: %zu embeddings, participation ratio %.1f of %zu dimensions\n", n, trace * trace / frob, d);
  for (size_t j = 0; j < d; ++j) cov[j * d + j] += 1e-6 * trace / double(d);  // keep it definite
  if (!cholesky(cov, d)) return std::fprintf(stderr, "covariance not positive definite\n"), 1;

  FILE* out = std::fopen(argv[6], "wb");
  if (!out) return std::perror(argv[6]), 1;
  std::vector<double> z(d + 1);
  std::vector<float> v(d);
  for (size_t i = from; i < from + count; ++i) {
    Rng r{seed * 0x100000001b3ULL ^ (uint64_t(i) * 0x9e3779b97f4a7c15ULL)};
    for (size_t j = 0; j < d; j += 2) r.gauss2(z[j], z[j + 1]);
    double norm = 0;
    for (size_t j = 0; j < d; ++j) {  // mean + L z
      double s = mean[j];
      const double* l = &cov[j * d];
      for (size_t k = 0; k <= j; ++k) s += l[k] * z[k];
      x[j] = s, norm += s * s;
    }
    norm = std::sqrt(norm);
    for (size_t j = 0; j < d; ++j) v[j] = float(x[j] / norm);
    if (std::fwrite(v.data(), 4, d, out) != d) return std::perror(argv[6]), 1;
  }
  return std::fclose(out) == 0 ? 0 : (std::perror(argv[6]), 1);
}
