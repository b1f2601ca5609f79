// Areas and perimeters on the WGS84 ellipsoid (GeodesicMeasurer, include/fieldseg/geometry.hpp).
//
// Area: the polygon's vertices in the equal-area EASE-Grid 2.0 projection (EPSG:6933), shoelace.
// Perimeter: the vertices in lon/lat, each edge measured on the ellipsoid (shortSegmentM).
//
// measure() maps the vertices of a field through a local model of the two projections instead of
// calling PROJ once per vertex (PROJ's inverse UTM was a fifth of the fields pass): biquadratic
// interpolation of lon/lat and of EPSG:6933 from a 3 x 3 stencil over the bounds of all its rings,
// used only when it reproduces PROJ at four more points of the bounds to within kModelTolM metres
// (and kModelTolDeg degrees); otherwise (large polygons, a projection edge or the antimeridian
// inside the bounds, few vertices, a coordinate that is not finite) every vertex goes through PROJ
// as in areaM2 / perimeterM. Only the 13 stencil points meet PROJ on the modelled path: a vertex
// PROJ would refuse inside a box whose corners and centre it accepts needs a domain that is not
// convex, which the projections fields come in (UTM, LAEA, stereographic, lon/lat) do not have.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"

namespace fieldseg {
namespace {
constexpr double kA = 6378137.0;
constexpr double kF = 1.0 / 298.257223563;
constexpr double kE2 = kF * (2 - kF);
constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

// Largest disagreement with PROJ at the check points that lets the model map a polygon: far below
// the output's rounding (1 m2 of area, 1 cm of perimeter) for any polygon that passes.
constexpr double kModelTolM = 1e-6;
constexpr double kModelTolDeg = 1e-11;  // about 1e-6 m
// Polygons with fewer vertices go through PROJ directly (the stencil costs 13 points).
constexpr size_t kModelMinVertices = 24;

// Length on the WGS84 ellipsoid of a short lon/lat segment, from the local radii of curvature at
// the mid latitude (second-order accurate; callers subdivide long segments).
double shortSegmentM(double lon0, double lat0, double lon1, double lat1) {
  double dlon = lon1 - lon0;
  if (dlon > 180) dlon -= 360;
  if (dlon < -180) dlon += 360;
  const double phi = 0.5 * (lat0 + lat1) * kDegToRad;
  const double s = std::sin(phi);
  const double w = std::sqrt(1 - kE2 * s * s);
  const double n = kA / w;                        // prime vertical radius
  const double m = kA * (1 - kE2) / (w * w * w);  // meridional radius
  const double dx = dlon * kDegToRad * n * std::cos(phi);
  const double dy = (lat1 - lat0) * kDegToRad * m;
  return std::hypot(dx, dy);
}

double ringGeodesicLength(const Ring& lonlat) {
  double len = 0;
  const size_t n = lonlat.size();
  for (size_t i = 0; i < n; ++i) {
    const Point& a = lonlat[i];
    const Point& b = lonlat[(i + 1) % n];
    double dlon = b.x - a.x;
    if (dlon > 180) dlon -= 360;
    if (dlon < -180) dlon += 360;
    const double span = std::max(std::abs(dlon), std::abs(b.y - a.y));
    const int steps = std::max(1, static_cast<int>(std::ceil(span / 0.01)));  // <= ~1 km pieces
    double px = a.x, py = a.y;
    for (int k = 1; k <= steps; ++k) {
      const double t = static_cast<double>(k) / steps;
      const double qx = a.x + dlon * t, qy = a.y + (b.y - a.y) * t;
      len += shortSegmentM(px, py, qx, qy);
      px = qx;
      py = qy;
    }
  }
  return len;
}

// Lagrange weights of the nodes -1, 0, 1 at u.
std::array<double, 3> quadraticWeights(double u) {
  return {0.5 * u * (u - 1), 1 - u * u, 0.5 * u * (u + 1)};
}

// A map R^2 -> R^2 interpolated from its values on the 3 x 3 nodes of a box (biquadratic), kept
// as differences from the centre value so that large coordinates lose no precision.
class StencilModel {
 public:
  static constexpr int kNodes = 9;
  StencilModel(double cx, double cy, double hx, double hy) : cx_(cx), cy_(cy), hx_(hx), hy_(hy) {}
  // The box point at normalised (u, v) in [-1, 1]^2.
  Point at(double u, double v) const { return {cx_ + u * hx_, cy_ + v * hy_}; }
  // The 9 nodes (row-major in v, then u) followed by `extra`.
  std::vector<Point> points(const std::vector<Point>& extra) const {
    std::vector<Point> pts;
    for (int j = -1; j <= 1; ++j)
      for (int i = -1; i <= 1; ++i) pts.push_back(at(i, j));
    pts.insert(pts.end(), extra.begin(), extra.end());
    return pts;
  }
  void fit(const std::vector<Point>& mapped) {
    centre_ = mapped[4];
    for (int k = 0; k < kNodes; ++k) diff_[k] = {mapped[k].x - centre_.x, mapped[k].y - centre_.y};
  }
  Point operator()(const Point& p) const {
    const auto wu = quadraticWeights((p.x - cx_) / hx_);
    const auto wv = quadraticWeights((p.y - cy_) / hy_);
    double dx = 0, dy = 0;
    for (int j = 0; j < 3; ++j) {
      double rx = 0, ry = 0;
      for (int i = 0; i < 3; ++i) {
        rx += wu[i] * diff_[3 * j + i].x;
        ry += wu[i] * diff_[3 * j + i].y;
      }
      dx += wv[j] * rx;
      dy += wv[j] * ry;
    }
    return {centre_.x + dx, centre_.y + dy};
  }

 private:
  double cx_, cy_, hx_, hy_;
  Point centre_{};
  std::array<Point, kNodes> diff_{};
};

size_t vertexCount(const Polygon& p) {
  size_t n = p.exterior.size();
  for (const auto& h : p.holes) n += h.size();
  return n;
}

// The bounds of every ring, holes included; nothing when a coordinate is not finite (those
// polygons go vertex by vertex, which refuses them).
std::optional<WorldBox> finiteBounds(const Polygon& p) {
  WorldBox b;
  b.minX = b.minY = std::numeric_limits<double>::infinity();
  b.maxX = b.maxY = -std::numeric_limits<double>::infinity();
  auto add = [&](const Ring& r) {
    for (const Point& q : r) {
      if (!std::isfinite(q.x) || !std::isfinite(q.y)) return false;
      b.minX = std::min(b.minX, q.x);
      b.maxX = std::max(b.maxX, q.x);
      b.minY = std::min(b.minY, q.y);
      b.maxY = std::max(b.maxY, q.y);
    }
    return true;
  };
  if (!add(p.exterior)) return std::nullopt;
  for (const auto& h : p.holes)
    if (!add(h)) return std::nullopt;
  return b;
}

Ring mapRing(const StencilModel& m, const Ring& r) {
  Ring out(r.size());
  for (size_t i = 0; i < r.size(); ++i) out[i] = m(r[i]);
  return out;
}

}  // namespace

struct GeodesicMeasurer::Impl {
  CoordTransform toLonLat;
  CoordTransform toEqualArea;
  CoordTransform lonLatToEqualArea;
  Impl(const Crs& crs)
      : toLonLat(crs, Crs::wgs84()),
        toEqualArea(crs, Crs::fromEpsg(6933)),
        lonLatToEqualArea(Crs::wgs84(), Crs::fromEpsg(6933)) {}

  Ring transform(const CoordTransform& t, const Ring& r) const {
    Ring out = r;
    if (!t.apply(out))
      throw DataError(
          "geometry: cannot transform a polygon vertex to measure it on the ellipsoid. "
          "Check the CRS of the polygons.");
    return out;
  }

  // The lon/lat and equal-area models over the polygon's bounds, or nothing when they do not
  // reproduce PROJ at the check points.
  std::optional<std::pair<StencilModel, StencilModel>> models(const Polygon& polygon) const {
    const std::optional<WorldBox> bounds = finiteBounds(polygon);
    if (!bounds) return std::nullopt;
    const WorldBox& b = *bounds;
    const double hx = 0.5 * (b.maxX - b.minX), hy = 0.5 * (b.maxY - b.minY);
    if (!(hx > 0) || !(hy > 0)) return std::nullopt;
    StencilModel ll(b.minX + hx, b.minY + hy, hx, hy), ea = ll;
    const std::vector<Point> checks = {ll.at(-0.5, -0.5), ll.at(0.5, -0.5), ll.at(-0.5, 0.5),
                                       ll.at(0.5, 0.5)};
    std::vector<Point> lonLat = ll.points(checks);
    if (!toLonLat.apply(lonLat)) return std::nullopt;
    std::vector<Point> equalArea = lonLat;
    if (!lonLatToEqualArea.apply(equalArea)) return std::nullopt;
    ll.fit(lonLat);
    ea.fit(equalArea);
    for (size_t k = 0; k < checks.size(); ++k) {
      const Point a = ll(checks[k]), e = ea(checks[k]);
      const Point& pa = lonLat[StencilModel::kNodes + k];
      const Point& pe = equalArea[StencilModel::kNodes + k];
      if (!(std::abs(a.x - pa.x) <= kModelTolDeg && std::abs(a.y - pa.y) <= kModelTolDeg &&
            std::abs(e.x - pe.x) <= kModelTolM && std::abs(e.y - pe.y) <= kModelTolM))
        return std::nullopt;
    }
    return std::pair{ll, ea};
  }
};

GeodesicMeasurer::GeodesicMeasurer(const Crs& crs) {
  if (crs.empty())
    throw DataError(
        "geometry: cannot measure polygons in metres: their CRS is empty. "
        "Give the data a CRS.");
  impl_ = std::make_unique<Impl>(crs);
}
GeodesicMeasurer::~GeodesicMeasurer() = default;
GeodesicMeasurer::GeodesicMeasurer(GeodesicMeasurer&&) noexcept = default;
GeodesicMeasurer& GeodesicMeasurer::operator=(GeodesicMeasurer&&) noexcept = default;

double GeodesicMeasurer::areaM2(const Polygon& polygon) const {
  Polygon p;
  p.exterior = impl_->transform(impl_->toEqualArea, polygon.exterior);
  for (const auto& h : polygon.holes) p.holes.push_back(impl_->transform(impl_->toEqualArea, h));
  return areaOf(p);
}

double GeodesicMeasurer::perimeterM(const Polygon& polygon) const {
  double len = ringGeodesicLength(impl_->transform(impl_->toLonLat, polygon.exterior));
  for (const auto& h : polygon.holes)
    len += ringGeodesicLength(impl_->transform(impl_->toLonLat, h));
  return len;
}

GeodesicMeasurer::Measures GeodesicMeasurer::measure(const Polygon& polygon) const {
  Measures m;
  if (vertexCount(polygon) >= kModelMinVertices) {
    if (const auto models = impl_->models(polygon)) {
      const auto& [ll, ea] = *models;
      Polygon p;
      m.perimeterM = ringGeodesicLength(mapRing(ll, polygon.exterior));
      p.exterior = mapRing(ea, polygon.exterior);
      for (const auto& h : polygon.holes) {
        m.perimeterM += ringGeodesicLength(mapRing(ll, h));
        p.holes.push_back(mapRing(ea, h));
      }
      m.areaM2 = areaOf(p);
      ++modelled_;
      return m;
    }
  }
  Polygon p;
  p.exterior = impl_->transform(impl_->toLonLat, polygon.exterior);
  m.perimeterM = ringGeodesicLength(p.exterior);
  for (const auto& h : polygon.holes) {
    p.holes.push_back(impl_->transform(impl_->toLonLat, h));
    m.perimeterM += ringGeodesicLength(p.holes.back());
  }
  p.exterior = impl_->transform(impl_->lonLatToEqualArea, p.exterior);
  for (auto& h : p.holes) h = impl_->transform(impl_->lonLatToEqualArea, h);
  m.areaM2 = areaOf(p);
  return m;
}

double geodesicAreaM2(const Polygon& polygon, const Crs& crs) {
  return GeodesicMeasurer(crs).areaM2(polygon);
}

double geodesicPerimeterM(const Polygon& polygon, const Crs& crs) {
  return GeodesicMeasurer(crs).perimeterM(polygon);
}

}  // namespace fieldseg
