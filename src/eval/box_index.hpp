// BoxIndex: a uniform-grid index of axis-aligned boxes for "which boxes overlap this one" queries.
// Internal to src/eval. Immutable after construction; queries are const and thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg::eval {

class BoxIndex {
 public:
  /// Empty boxes are never returned by queries.
  explicit BoxIndex(std::vector<WorldBox> boxes);
  /// Indices (ascending, unique) of the boxes overlapping `q` grown by `margin` (touching counts).
  std::vector<std::size_t> query(const WorldBox& q, double margin = 0) const;
  std::size_t size() const { return boxes_.size(); }

 private:
  std::vector<WorldBox> boxes_;
  double minX_ = 0, minY_ = 0, cell_ = 1;
  int nx_ = 0, ny_ = 0;
  std::vector<std::vector<std::size_t>> cells_;
  int cellX(double x) const;
  int cellY(double y) const;
};

}  // namespace fieldseg::eval
