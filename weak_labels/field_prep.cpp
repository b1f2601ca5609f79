// Fields -> polygons in the grid CRS, the FieldSet overload of buildLabelStack, and the
// deterministic west/east split.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/weak_labels.hpp"

namespace fieldseg {
namespace {

std::unique_ptr<CoordTransform> transformFor(const Crs& from, const Crs& to, const char* what) {
  if (from.empty())
    throw DataError(std::string("weak_labels: the ") + what +
                    " have no CRS: cannot place them on the image. Give a file with a CRS (e.g. "
                    "a .prj beside the Shapefile, or GeoJSON in EPSG:4326).");
  if (to.empty())
    throw DataError(
        "weak_labels: the image has no CRS: cannot place polygons on it. Give a "
        "georeferenced image.");
  if (from.sameAs(to)) return nullptr;
  try {
    return std::make_unique<CoordTransform>(from, to);
  } catch (const Error&) {
    throw DataError(std::string("weak_labels: cannot transform the ") + what + " from '" +
                    from.label() + "' to the image CRS '" + to.label() +
                    "': PROJ knows no transformation between them. Reproject them (ogr2ogr "
                    "-t_srs) to a CRS of the same body and datum family as the image.");
  }
}

// x of the area centroid (exterior minus holes), as ST_Centroid computes it; vertex mean for
// degenerate rings.
double centroidX(const Polygon& p) {
  double a = 0, cx = 0;
  auto add = [&](const Ring& r, double sign) {
    double ra = 0, rc = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      const Point& u = r[i];
      const Point& v = r[(i + 1) % r.size()];
      const double cr = u.x * v.y - v.x * u.y;
      ra += cr;
      rc += (u.x + v.x) * cr;
    }
    // Orientation-free: the exterior adds, holes subtract.
    const double s = ra < 0 ? -1.0 : 1.0;
    a += sign * s * ra;
    cx += sign * s * rc;
  };
  add(p.exterior, 1.0);
  for (const Ring& h : p.holes) add(h, -1.0);
  if (std::fabs(a) > 0) return cx / (3.0 * a);
  double m = 0;
  for (const Point& q : p.exterior) m += q.x;
  return p.exterior.empty() ? 0 : m / static_cast<double>(p.exterior.size());
}

}  // namespace

std::vector<Polygon> polygonsInCrs(const FieldSet& fields, const Crs& to,
                                   std::vector<std::string>* skipReasons) {
  const auto xf = transformFor(fields.crs, to, "polygons");
  std::vector<Polygon> out;
  out.reserve(fields.fields.size());
  for (const Field& f : fields.fields) {
    Polygon p = f.polygon;
    if (xf) {
      bool ok = xf->apply(p.exterior);
      for (Ring& h : p.holes) ok = xf->apply(h) && ok;
      if (!ok) {
        if (skipReasons)
          skipReasons->push_back("field " + std::to_string(f.id) +
                                 ": some points cannot be transformed to " + to.label());
        continue;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

LabelStack buildLabelStack(const FieldSet& fields, const GridSpec& grid,
                           const LabelOptions& options, const FieldSet* noncrop,
                           const std::vector<std::uint8_t>* valid, LabelStats* stats) {
  std::vector<std::string> reasons;
  const std::vector<Polygon> polys = polygonsInCrs(fields, grid.crs(), &reasons);
  std::vector<Polygon> bg;
  if (noncrop) bg = polygonsInCrs(*noncrop, grid.crs(), &reasons);
  LabelStack out = buildLabelStack(polys, bg, grid, options, valid, stats);
  if (stats) {
    stats->fieldsGiven = static_cast<int>(fields.fields.size());
    stats->fieldsSkipped = static_cast<int>(fields.fields.size() - polys.size());
    stats->skipReasons = reasons;
  }
  return out;
}

FieldSet splitFields(const FieldSet& fields, const std::string& half) {
  if (half != "west" && half != "east")
    throw UsageError("weak_labels: split '" + half + "' is not a half. Use west or east.");
  const auto xf = transformFor(fields.crs, Crs::wgs84(), "polygons");
  const size_t n = fields.fields.size();
  std::vector<double> lon(n, 0);
  for (size_t i = 0; i < n; ++i) {
    Polygon p = fields.fields[i].polygon;
    if (xf) {
      xf->apply(p.exterior);
      for (Ring& h : p.holes) xf->apply(h);
    }
    lon[i] = centroidX(p);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lon[a] < lon[b]; });
  const size_t cut = n / 2;
  std::vector<size_t> keep(half == "west" ? order.begin() : order.begin() + cut,
                           half == "west" ? order.begin() + cut : order.end());
  std::sort(keep.begin(), keep.end());  // keep the input order
  FieldSet out;
  out.crs = fields.crs;
  for (size_t i : keep) out.fields.push_back(fields.fields[i]);
  return out;
}

}  // namespace fieldseg
