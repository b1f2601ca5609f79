#include "box_index.hpp"

#include <algorithm>
#include <cmath>

namespace fieldseg::eval {

BoxIndex::BoxIndex(std::vector<WorldBox> boxes) : boxes_(std::move(boxes)) {
  double minX = 0, minY = 0, maxX = 0, maxY = 0, sumSide = 0;
  std::size_t n = 0;
  for (const auto& b : boxes_) {
    if (b.maxX < b.minX || b.maxY < b.minY) continue;
    if (n == 0) {
      minX = b.minX, minY = b.minY, maxX = b.maxX, maxY = b.maxY;
    } else {
      minX = std::min(minX, b.minX), minY = std::min(minY, b.minY);
      maxX = std::max(maxX, b.maxX), maxY = std::max(maxY, b.maxY);
    }
    sumSide += std::max(b.maxX - b.minX, b.maxY - b.minY);
    ++n;
  }
  if (n == 0) return;
  // Cells about the size of an average box keep both the cell count per box and the boxes per cell
  // small; cap the grid so a few huge boxes cannot blow up memory.
  double extent = std::max({maxX - minX, maxY - minY, 1e-9});
  cell_ = std::max(sumSide / static_cast<double>(n), extent / 2048.0);
  if (cell_ <= 0) cell_ = extent;
  minX_ = minX, minY_ = minY;
  nx_ = static_cast<int>(std::floor((maxX - minX) / cell_)) + 1;
  ny_ = static_cast<int>(std::floor((maxY - minY) / cell_)) + 1;
  cells_.assign(static_cast<std::size_t>(nx_) * ny_, {});
  for (std::size_t i = 0; i < boxes_.size(); ++i) {
    const auto& b = boxes_[i];
    if (b.maxX < b.minX || b.maxY < b.minY) continue;
    for (int y = cellY(b.minY); y <= cellY(b.maxY); ++y) {
      for (int x = cellX(b.minX); x <= cellX(b.maxX); ++x) {
        cells_[static_cast<std::size_t>(y) * nx_ + x].push_back(i);
      }
    }
  }
}

int BoxIndex::cellX(double x) const {
  return std::clamp(static_cast<int>(std::floor((x - minX_) / cell_)), 0, nx_ - 1);
}
int BoxIndex::cellY(double y) const {
  return std::clamp(static_cast<int>(std::floor((y - minY_) / cell_)), 0, ny_ - 1);
}

std::vector<std::size_t> BoxIndex::query(const WorldBox& q, double margin) const {
  std::vector<std::size_t> out;
  if (cells_.empty()) return out;
  double qx0 = q.minX - margin, qy0 = q.minY - margin, qx1 = q.maxX + margin, qy1 = q.maxY + margin;
  for (int y = cellY(qy0); y <= cellY(qy1); ++y) {
    for (int x = cellX(qx0); x <= cellX(qx1); ++x) {
      for (std::size_t i : cells_[static_cast<std::size_t>(y) * nx_ + x]) {
        const auto& b = boxes_[i];
        if (b.minX <= qx1 && b.maxX >= qx0 && b.minY <= qy1 && b.maxY >= qy0) out.push_back(i);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace fieldseg::eval
