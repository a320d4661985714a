#pragma once
// hnswlib spaces over unit vectors, distance = 1 - <a, b> (so cosine = 1 - distance).
//   F32Space:  a point is dim floats.
//   Int8Space: a point is [f32 scale][dim x int8]; x ~= scale * q with q the int8 code closest
//              in angle to x and scale = 1 / |q| (see Int8Space::encode), a quarter of the
//              memory. Queries are finer ([NaN tag][f32 scale][dim x int16])
//              and scored against the codes asymmetrically, so only the stored side is coarse.
// The space is the small extension point hnswlib offers; the index never looks inside a point.
#include <hnswlib/hnswlib.h>

#include <cstdint>
#include <memory>

namespace semcache {

enum class SpaceKind : uint32_t { F32 = 1, Int8 = 2 };

const char* spaceName(SpaceKind k);
SpaceKind parseSpace(const std::string& name);  // "f32" | "int8", else INVALID_ARGUMENT

class VectorSpace : public hnswlib::SpaceInterface<float> {
 public:
  virtual SpaceKind kind() const = 0;
  virtual size_t dim() const = 0;
  // v is a unit vector of dim floats; out has get_data_size() bytes.
  virtual void encode(const float* v, void* out) const = 0;
  virtual void decode(const void* point, float* out) const = 0;
  // Queries may use a richer format than stored points (hnswlib always passes the query as the
  // distance function's first argument): the int8 space keeps queries in f32.
  virtual size_t queryBytes() const { return const_cast<VectorSpace*>(this)->get_data_size(); }
  virtual void encodeQuery(const float* q, void* out) const { encode(q, out); }
  // Distances from an encoded query to `count` stored points (the graph search scores a node's
  // neighbours together); equal to calling the distance function on each.
  virtual void distances(const void* query, const char* const* points, size_t count, float* out) const = 0;
};

std::unique_ptr<VectorSpace> makeSpace(SpaceKind kind, size_t dim);

}  // namespace semcache
