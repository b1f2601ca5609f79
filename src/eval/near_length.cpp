#include "near_length.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace fieldseg::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxCellsPerSide = 16;

// Narrows [lo, hi] to the t where alpha + beta t lies in [a, b].
void clip(double alpha, double beta, double a, double b, double& lo, double& hi) {
  if (beta == 0) {
    if (alpha < a || alpha > b) lo = kInf, hi = -kInf;
    return;
  }
  double t0 = (a - alpha) / beta, t1 = (b - alpha) / beta;
  if (t0 > t1) std::swap(t0, t1);
  lo = std::max(lo, t0);
  hi = std::min(hi, t1);
}

// Widens [lo, hi] by the t where |F + t d| <= r (F = A - centre): a disc of radius r.
void disc(double fx, double fy, double dx, double dy, double dd, double r2, double& lo,
          double& hi) {
  const double b = fx * dx + fy * dy;
  const double c = fx * fx + fy * fy - r2;
  const double q = b * b - dd * c;
  if (q < 0) return;
  const double s = std::sqrt(q);
  lo = std::min(lo, (-b - s) / dd);
  hi = std::max(hi, (-b + s) / dd);
}

}  // namespace

NearSegments::NearSegments(const WorldBox& box, double r) : x0_(box.minX), y0_(box.minY), r_(r) {
  const double w = box.maxX - box.minX + 2 * r, h = box.maxY - box.minY + 2 * r;
  cell_ = std::max({r, w / kMaxCellsPerSide, h / kMaxCellsPerSide});
  nx_ = std::max(1, static_cast<int>(std::ceil(w / cell_)));
  ny_ = std::max(1, static_cast<int>(std::ceil(h / cell_)));
}

void NearSegments::add(const Point& a, const Point& b) {
  segs_.push_back({a.x - x0_, a.y - y0_, b.x - x0_, b.y - y0_});
  indexed_ = false;
}

int NearSegments::cellOf(double v, int n) const {
  // Clamped before the conversion: a far-away coordinate must not overflow the int.
  const double c = std::floor((v + r_) / cell_);
  return static_cast<int>(std::clamp(c, 0.0, static_cast<double>(n - 1)));
}

void NearSegments::index() const {
  // Cell (i, j) covers [i * cell - r, (i + 1) * cell - r) in x from the box corner; a segment is
  // listed in every cell its bounds grown by r meet (clamped to the grid: beyond it no query
  // line lies).
  auto range = [&](double lo, double hi, int n, int& c0, int& c1) {
    c0 = cellOf(lo, n);
    c1 = cellOf(hi, n);
  };
  const size_t cells = static_cast<size_t>(nx_) * ny_;
  cellStart_.assign(cells + 1, 0);
  auto each = [&](auto&& fn) {
    for (std::uint32_t k = 0; k < segs_.size(); ++k) {
      const Seg& s = segs_[k];
      int i0, i1, j0, j1;
      range(std::min(s.ax, s.bx) - r_, std::max(s.ax, s.bx) + r_, nx_, i0, i1);
      range(std::min(s.ay, s.by) - r_, std::max(s.ay, s.by) + r_, ny_, j0, j1);
      for (int j = j0; j <= j1; ++j)
        for (int i = i0; i <= i1; ++i) fn(static_cast<size_t>(j) * nx_ + i, k);
    }
  };
  each([&](size_t c, std::uint32_t) { ++cellStart_[c + 1]; });
  for (size_t c = 0; c < cells; ++c) cellStart_[c + 1] += cellStart_[c];
  cellSegs_.resize(cellStart_[cells]);
  std::vector<std::uint32_t> fill(cellStart_.begin(), cellStart_.end() - 1);
  each([&](size_t c, std::uint32_t k) { cellSegs_[fill[c]++] = k; });
  stamp_.assign(segs_.size(), 0);
  query_ = 0;
  indexed_ = true;
}

double NearSegments::segment(double ax, double ay, double bx, double by) const {
  const double dx = bx - ax, dy = by - ay, dd = dx * dx + dy * dy;
  if (!(dd > 0)) return 0.0;
  if (++query_ == 0) {  // the stamps wrapped: start afresh
    std::fill(stamp_.begin(), stamp_.end(), 0);
    query_ = 1;
  }
  const double r2 = r_ * r_;
  const int i0 = cellOf(std::min(ax, bx), nx_), i1 = cellOf(std::max(ax, bx), nx_);
  const int j0 = cellOf(std::min(ay, by), ny_), j1 = cellOf(std::max(ay, by), ny_);
  spans_.clear();
  for (int j = j0; j <= j1; ++j)
    for (int i = i0; i <= i1; ++i) {
      const size_t c = static_cast<size_t>(j) * nx_ + i;
      for (std::uint32_t p = cellStart_[c]; p < cellStart_[c + 1]; ++p) {
        const std::uint32_t k = cellSegs_[p];
        if (stamp_[k] == query_) continue;
        stamp_[k] = query_;
        const Seg& s = segs_[k];
        // The capsule = the discs at both ends and the rectangle between them; convex, so the
        // parameters of AB inside it are one interval: the hull of the pieces' intervals.
        double lo = kInf, hi = -kInf;
        disc(ax - s.ax, ay - s.ay, dx, dy, dd, r2, lo, hi);
        disc(ax - s.bx, ay - s.by, dx, dy, dd, r2, lo, hi);
        const double ex = s.bx - s.ax, ey = s.by - s.ay, m = std::hypot(ex, ey);
        if (m > 0) {
          const double ux = ex / m, uy = ey / m;  // along PQ; (-uy, ux) across it
          const double fx = ax - s.ax, fy = ay - s.ay;
          double rlo = -kInf, rhi = kInf;
          clip(fx * ux + fy * uy, dx * ux + dy * uy, 0, m, rlo, rhi);
          clip(-fx * uy + fy * ux, -dx * uy + dy * ux, -r_, r_, rlo, rhi);
          if (rlo <= rhi) lo = std::min(lo, rlo), hi = std::max(hi, rhi);
        }
        lo = std::max(lo, 0.0);
        hi = std::min(hi, 1.0);
        if (lo < hi) spans_.emplace_back(lo, hi);
      }
    }
  if (spans_.empty()) return 0.0;
  std::sort(spans_.begin(), spans_.end());
  double covered = 0, start = spans_[0].first, end = spans_[0].second;
  for (const auto& [lo, hi] : spans_) {
    if (lo > end) {
      covered += end - start;
      start = lo;
    }
    end = std::max(end, hi);
  }
  covered += end - start;
  return covered * std::sqrt(dd);
}

double NearSegments::length(const std::vector<Point>& line) const {
  if (segs_.empty() || line.size() < 2) return 0.0;
  if (!indexed_) index();
  double total = 0;
  for (size_t i = 0; i + 1 < line.size(); ++i)
    total += segment(line[i].x - x0_, line[i].y - y0_, line[i + 1].x - x0_, line[i + 1].y - y0_);
  return total;
}

}  // namespace fieldseg::eval
