#include "index/spaces.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "index/kernels.h"

namespace semcache {
namespace {

[[maybe_unused]] float distF32(const void* a, const void* b, const void* param) {
  size_t n = *static_cast<const size_t*>(param);
  return 1.f - kernels::dot_f32(static_cast<const float*>(a), static_cast<const float*>(b), n);
}

class F32Space final : public VectorSpace {
 public:
  explicit F32Space(size_t dim) : dim_(dim), ip_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override {
#if defined(__wasm_simd128__)
    return distF32;
#else
    return ip_.get_dist_func();  // hnswlib's own SSE/AVX/AVX-512 kernels: the native reference
#endif
  }
  void* get_dist_func_param() override {
#if defined(__wasm_simd128__)
    return &dim_;
#else
    return ip_.get_dist_func_param();
#endif
  }
  SpaceKind kind() const override { return SpaceKind::F32; }
  size_t dim() const override { return dim_; }
  void encode(const float* v, void* out) const override { std::memcpy(out, v, dim_ * sizeof(float)); }
  void decode(const void* p, float* out) const override { std::memcpy(out, p, dim_ * sizeof(float)); }

 private:
  size_t dim_;
  hnswlib::InnerProductSpace ip_;
};

float distInt8(const void* a, const void* b, const void* param) {
  size_t n = *static_cast<const size_t*>(param);
  float sa, sb;
  std::memcpy(&sa, a, 4);
  std::memcpy(&sb, b, 4);
  if (std::isnan(sa))  // an f32 query (see encodeQuery)
    return 1.f - sb * kernels::dot_f32_i8(reinterpret_cast<const float*>(static_cast<const uint8_t*>(a) + 4),
                                          static_cast<const int8_t*>(b) + 4, n);
  int32_t d = kernels::dot_i8(static_cast<const int8_t*>(a) + 4, static_cast<const int8_t*>(b) + 4, n);
  return 1.f - sa * sb * static_cast<float>(d);
}

class Int8Space final : public VectorSpace {
 public:
  explicit Int8Space(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return 4 + dim_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distInt8; }
  void* get_dist_func_param() override { return &dim_; }
  SpaceKind kind() const override { return SpaceKind::Int8; }
  size_t dim() const override { return dim_; }
  void encode(const float* v, void* out) const override {
    float maxAbs = 0.f;
    for (size_t i = 0; i < dim_; ++i) maxAbs = std::max(maxAbs, std::fabs(v[i]));
    float scale = maxAbs > 0.f ? maxAbs / 127.f : 1.f;
    float inv = 1.f / scale;
    std::memcpy(out, &scale, 4);
    auto* q = static_cast<int8_t*>(out) + 4;
    for (size_t i = 0; i < dim_; ++i) q[i] = static_cast<int8_t>(std::lrintf(v[i] * inv));
  }
  size_t queryBytes() const override { return 4 + dim_ * sizeof(float); }
  void encodeQuery(const float* q, void* out) const override {
    float tag = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(out, &tag, 4);
    std::memcpy(static_cast<uint8_t*>(out) + 4, q, dim_ * sizeof(float));
  }
  void decode(const void* p, float* out) const override {
    float scale;
    std::memcpy(&scale, p, 4);
    const auto* q = static_cast<const int8_t*>(p) + 4;
    for (size_t i = 0; i < dim_; ++i) out[i] = scale * q[i];
  }

 private:
  size_t dim_;
};

}  // namespace

const char* spaceName(SpaceKind k) { return k == SpaceKind::Int8 ? "int8" : "f32"; }

SpaceKind parseSpace(const std::string& name) {
  if (name == "f32") return SpaceKind::F32;
  if (name == "int8") return SpaceKind::Int8;
  throw Error(codes::kInvalidArgument, "unknown index space '" + name + "' (expected 'f32' or 'int8')");
}

std::unique_ptr<VectorSpace> makeSpace(SpaceKind kind, size_t dim) {
  if (dim == 0 || dim > 65536)
    throw Error(codes::kInvalidArgument, "vector dimensions must be in 1..65536, got " + std::to_string(dim));
  switch (kind) {
    case SpaceKind::F32: return std::make_unique<F32Space>(dim);
    case SpaceKind::Int8: return std::make_unique<Int8Space>(dim);
  }
  throw Error(codes::kInvalidArgument, "unknown space kind " + std::to_string(static_cast<uint32_t>(kind)));
}

}  // namespace semcache
