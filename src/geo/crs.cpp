// Crs and CoordTransform on top of GDAL's OSR (PROJ). OSR types stay in this file.
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "fieldseg/error.hpp"
#include "fieldseg/geo.hpp"
#include "gdal_error_scope.hpp"

namespace fieldseg {

using geo::gdalCause;
using geo::GdalErrorScope;

namespace {

std::string toWkt2(const OGRSpatialReference& srs) {
  char* wkt = nullptr;
  const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
  srs.exportToWkt(&wkt, opts);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  return out;
}

// Builds an OSR object from stored WKT, always in traditional GIS axis order.
OGRSpatialReference makeSrs(const std::string& wkt) {
  OGRSpatialReference srs;
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  if (srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) {
    throw DataError(
        "geo: cannot parse CRS WKT: invalid definition. Pass an EPSG code or a valid WKT.");
  }
  return srs;
}

}  // namespace

Crs Crs::fromUserInput(const std::string& text) {
  OGRSpatialReference srs;
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::string in = text;
  // A bare number means an EPSG code.
  if (!in.empty() && in.find_first_not_of("0123456789") == std::string::npos) in = "EPSG:" + in;
  GdalErrorScope errors;
  const OGRErr err = srs.SetFromUserInput(in.c_str());
  if (err != OGRERR_NONE) {
    throw DataError("geo: cannot parse CRS '" + text +
                    "': " + gdalCause(errors, "not an EPSG code, WKT or PROJ string") +
                    ". Use e.g. EPSG:32636.");
  }
  Crs c;
  c.wkt_ = toWkt2(srs);
  c.geographic_ = srs.IsGeographic();
  srs.AutoIdentifyEPSG();
  const char* auth = srs.GetAuthorityName(nullptr);
  const char* code = srs.GetAuthorityCode(nullptr);
  if (auth && code && std::string(auth) == "EPSG") {
    c.epsg_ = std::atoi(code);
    c.label_ = "EPSG:" + std::string(code);
  } else {
    const char* name = srs.GetName();
    c.label_ = name ? name : "unknown CRS";
  }
  return c;
}

Crs Crs::fromEpsg(int code) { return fromUserInput("EPSG:" + std::to_string(code)); }

bool Crs::sameAs(const Crs& other) const {
  if (empty() || other.empty()) return empty() == other.empty();
  if (epsg_ && other.epsg_) return *epsg_ == *other.epsg_;
  OGRSpatialReference a = makeSrs(wkt_), b = makeSrs(other.wkt_);
  const char* opts[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT",
                        nullptr};
  return a.IsSame(&b, opts);
}

Crs Crs::utmFor(double lon, double lat) {
  int zone = static_cast<int>(std::floor((lon + 180.0) / 6.0)) + 1;
  zone = std::min(60, std::max(1, zone));
  return fromEpsg((lat >= 0 ? 32600 : 32700) + zone);
}

struct CoordTransform::Impl {
  OGRCoordinateTransformation* ct = nullptr;
  Crs to;
  ~Impl() { OGRCoordinateTransformation::DestroyCT(ct); }
};

CoordTransform::CoordTransform(const Crs& from, const Crs& to) : impl_(std::make_unique<Impl>()) {
  impl_->to = to;
  if (from.empty() || to.empty()) {
    throw DataError("geo: cannot transform coordinates: a CRS is missing. Give the data a CRS.");
  }
  OGRSpatialReference a = makeSrs(from.wkt()), b = makeSrs(to.wkt());
  GdalErrorScope errors;
  impl_->ct = OGRCreateCoordinateTransformation(&a, &b);
  if (!impl_->ct) {
    throw DataError("geo: no transformation from '" + from.label() + "' to '" + to.label() + "': " +
                    gdalCause(errors, "PROJ found no operation") + ". Reproject the data first.");
  }
}

CoordTransform::~CoordTransform() = default;
CoordTransform::CoordTransform(CoordTransform&&) noexcept = default;
CoordTransform& CoordTransform::operator=(CoordTransform&&) noexcept = default;

bool CoordTransform::apply(std::vector<Point>& pts) const {
  if (pts.empty()) return true;
  std::vector<double> x(pts.size()), y(pts.size());
  std::vector<int> ok(pts.size(), 0);
  for (size_t i = 0; i < pts.size(); ++i) {
    x[i] = pts[i].x;
    y[i] = pts[i].y;
  }
  {
    GdalErrorScope quiet;  // points outside the target's area come back as !ok
    impl_->ct->Transform(static_cast<int>(pts.size()), x.data(), y.data(), nullptr, ok.data());
  }
  bool all = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (ok[i] && std::isfinite(x[i]) && std::isfinite(y[i])) {
      pts[i] = {x[i], y[i]};
    } else {
      all = false;
    }
  }
  return all;
}

Point CoordTransform::apply(Point p) const {
  std::vector<Point> v{p};
  if (!apply(v)) {
    throw DataError("geo: cannot transform point (" + std::to_string(p.x) + ", " +
                    std::to_string(p.y) + "): outside the target CRS's area of use.");
  }
  return v[0];
}

WorldBox CoordTransform::applyBox(const WorldBox& b) const {
  // Densify the edges: 21 points a side catches the curvature of most projections.
  const int n = 21;
  std::vector<double> x, y;
  for (int i = 0; i < n; ++i) {
    double t = static_cast<double>(i) / (n - 1);
    double xi = b.minX + t * (b.maxX - b.minX), yi = b.minY + t * (b.maxY - b.minY);
    x.insert(x.end(), {xi, xi, b.minX, b.maxX});
    y.insert(y.end(), {b.minY, b.maxY, yi, yi});
  }
  std::vector<int> ok(x.size(), 0);
  {
    GdalErrorScope quiet;  // points outside the target's area come back as !ok
    impl_->ct->Transform(static_cast<int>(x.size()), x.data(), y.data(), nullptr, ok.data());
  }
  WorldBox out;
  out.crs = impl_->to;
  out.minX = out.minY = INFINITY;
  out.maxX = out.maxY = -INFINITY;
  int good = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!ok[i] || !std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    ++good;
    out.minX = std::min(out.minX, x[i]);
    out.maxX = std::max(out.maxX, x[i]);
    out.minY = std::min(out.minY, y[i]);
    out.maxY = std::max(out.maxY, y[i]);
  }
  if (good == 0) {
    throw DataError("geo: cannot transform a box from '" + b.crs.label() + "' to '" +
                    impl_->to.label() + "': no corner lies in the target CRS's area of use.");
  }
  return out;
}

}  // namespace fieldseg
