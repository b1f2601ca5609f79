#include <algorithm>
#include <cmath>

#include "fieldseg/error.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg {

PixelWindow PixelWindow::intersect(const PixelWindow& o) const {
  int x0 = std::max(x, o.x), y0 = std::max(y, o.y);
  int x1 = std::min(x + width, o.x + o.width), y1 = std::min(y + height, o.y + o.height);
  if (x1 <= x0 || y1 <= y0) return {x0, y0, 0, 0};
  return {x0, y0, x1 - x0, y1 - y0};
}

GridSpec::GridSpec(int width, int height, std::array<double, 6> geoTransform, Crs crs)
    : width_(width), height_(height), gt_(geoTransform), crs_(std::move(crs)) {
  if (width < 0 || height < 0) {
    throw DataError("geo: grid size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is negative.");
  }
  double det = gt_[1] * gt_[5] - gt_[2] * gt_[4];
  if (det == 0 || !std::isfinite(det)) {
    throw DataError(
        "geo: geotransform is degenerate (zero pixel size). The raster needs valid "
        "georeferencing.");
  }
}

Point GridSpec::pixelToWorld(double col, double row) const {
  return {gt_[0] + col * gt_[1] + row * gt_[2], gt_[3] + col * gt_[4] + row * gt_[5]};
}

Point GridSpec::worldToPixel(double x, double y) const {
  double det = gt_[1] * gt_[5] - gt_[2] * gt_[4];
  double dx = x - gt_[0], dy = y - gt_[3];
  return {(dx * gt_[5] - dy * gt_[2]) / det, (dy * gt_[1] - dx * gt_[4]) / det};
}

double GridSpec::resX() const { return std::hypot(gt_[1], gt_[4]); }
double GridSpec::resY() const { return std::hypot(gt_[2], gt_[5]); }

double GridSpec::gsdMeters() const {
  if (!crs_.isGeographic()) {
    // Projected CRSs here are metric (UTM, Web Mercator, national grids); Web Mercator's nominal
    // metre is scaled by 1/cos(lat) on the ground, so correct for it.
    double res = std::sqrt(resX() * resY());
    if (crs_.epsg() && *crs_.epsg() == 3857) {
      Point c = pixelToWorld(width_ / 2.0, height_ / 2.0);
      double lat = std::atan(std::sinh(c.y / 6378137.0));
      res *= std::cos(lat);
    }
    return res;
  }
  Point c = pixelToWorld(width_ / 2.0, height_ / 2.0);
  const double kMetresPerDegree = 111319.49079327357;  // WGS84 equatorial, per degree
  double mx = resX() * kMetresPerDegree * std::cos(c.y * M_PI / 180.0);
  double my = resY() * kMetresPerDegree;
  return std::sqrt(mx * my);
}

GridSpec GridSpec::subGrid(const PixelWindow& w) const {
  Point o = pixelToWorld(w.x, w.y);
  return GridSpec(w.width, w.height, {o.x, gt_[1], gt_[2], o.y, gt_[4], gt_[5]}, crs_);
}

GridSpec GridSpec::rescaled(double factor) const {
  if (!(factor > 0)) throw UsageError("geo: rescale factor must be > 0.");
  int w = static_cast<int>(std::ceil(width_ / factor - 1e-9));
  int h = static_cast<int>(std::ceil(height_ / factor - 1e-9));
  return GridSpec(
      std::max(1, w), std::max(1, h),
      {gt_[0], gt_[1] * factor, gt_[2] * factor, gt_[3], gt_[4] * factor, gt_[5] * factor}, crs_);
}

WorldBox GridSpec::boxOf(const PixelWindow& w) const {
  WorldBox b;
  b.crs = crs_;
  b.minX = b.minY = INFINITY;
  b.maxX = b.maxY = -INFINITY;
  for (auto [c, r] : {std::pair<double, double>{w.x, w.y},
                      {w.x + w.width, w.y},
                      {w.x, w.y + w.height},
                      {w.x + w.width, w.y + w.height}}) {
    Point p = pixelToWorld(c, r);
    b.minX = std::min(b.minX, p.x);
    b.maxX = std::max(b.maxX, p.x);
    b.minY = std::min(b.minY, p.y);
    b.maxY = std::max(b.maxY, p.y);
  }
  return b;
}

PixelWindow GridSpec::windowOf(const WorldBox& b) const {
  double c0 = INFINITY, r0 = INFINITY, c1 = -INFINITY, r1 = -INFINITY;
  for (auto [x, y] : {std::pair<double, double>{b.minX, b.minY},
                      {b.maxX, b.minY},
                      {b.minX, b.maxY},
                      {b.maxX, b.maxY}}) {
    Point p = worldToPixel(x, y);
    c0 = std::min(c0, p.x);
    c1 = std::max(c1, p.x);
    r0 = std::min(r0, p.y);
    r1 = std::max(r1, p.y);
  }
  // Snap tiny floating-point excess so a box built by boxOf maps back to the same window.
  const double eps = 1e-6;
  int x0 = static_cast<int>(std::floor(c0 + eps)), y0 = static_cast<int>(std::floor(r0 + eps));
  int x1 = static_cast<int>(std::ceil(c1 - eps)), y1 = static_cast<int>(std::ceil(r1 - eps));
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace fieldseg
