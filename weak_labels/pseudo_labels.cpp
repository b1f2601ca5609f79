// Pseudo-label selection (include/fieldseg/pseudo_labels.hpp).
#include "fieldseg/pseudo_labels.hpp"

#include <cmath>
#include <string>
#include <variant>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "fieldseg/geometry_metrics.hpp"

namespace fieldseg {
namespace {

double numberAttr(const Field& f, const std::string& key) {
  auto it = f.attrs.find(key);
  if (it != f.attrs.end()) {
    if (const auto* d = std::get_if<double>(&it->second)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
  }
  throw DataError("pseudo-label: predicted field " + std::to_string(f.id) + " has no numeric '" +
                  key +
                  "' attribute. Give the output of `fieldseg delineate` (it writes confidence, "
                  "boundary_strength and area).");
}

void check(const PseudoLabelOptions& o) {
  auto unit = [](double v, const char* name) {
    if (!(v >= 0 && v <= 1))
      throw UsageError(std::string("pseudo-label: ") + name + " " + std::to_string(v) +
                       " must be in [0, 1].");
  };
  unit(o.minConfidence, "min_confidence");
  unit(o.minBoundaryStrength, "min_boundary_strength");
  if (!(o.minAreaHa >= 0) || !(o.maxAreaHa >= 0) || (o.maxAreaHa > 0 && o.maxAreaHa < o.minAreaHa))
    throw UsageError(
        "pseudo-label: the area range must satisfy 0 <= min_area_ha <= max_area_ha "
        "(max_area_ha 0 = no limit).");
  if (!(o.frameMarginM >= 0)) throw UsageError("pseudo-label: frame_margin_m must be >= 0.");
}

bool touchesFrame(const Polygon& p, const WorldBox& frame, double margin) {
  const WorldBox b = boundsOf(p);
  return b.minX <= frame.minX + margin || b.minY <= frame.minY + margin ||
         b.maxX >= frame.maxX - margin || b.maxY >= frame.maxY - margin;
}

// More than 1 % of the field under a human label: a field that only shares an edge with one is
// kept.
bool overlapsLabels(const Shape& human, const Polygon& p) {
  if (human.empty()) return false;
  const Shape s = Shape::fromPolygon(p);
  return human.intersects(s) && human.intersectionArea(s) > 0.01 * s.area();
}

}  // namespace

FieldSet selectPseudoLabels(const FieldSet& predicted, const FieldSet& labels,
                            const PseudoLabelOptions& o, PseudoLabelReport* report) {
  check(o);
  PseudoLabelReport rep;
  rep.predicted = static_cast<long long>(predicted.fields.size());
  std::vector<Shape> human;
  if (!labels.fields.empty()) {
    const FieldSet inCrs =
        labels.crs.empty() || predicted.crs.empty() || labels.crs.sameAs(predicted.crs)
            ? labels
            : reproject(labels, predicted.crs);
    for (const auto& f : inCrs.fields) human.push_back(Shape::fromPolygon(f.polygon));
  }
  const Shape humanUnion = Shape::unionOf(human);
  FieldSet out;
  out.crs = predicted.crs;
  for (const auto& f : predicted.fields) {
    const double conf = numberAttr(f, "confidence");
    const double bound = numberAttr(f, "boundary_strength");
    const double areaHa = numberAttr(f, "area");
    if (conf < o.minConfidence) {
      ++rep.lowConfidence;
    } else if (bound < o.minBoundaryStrength) {
      ++rep.weakBoundary;
    } else if (areaHa < o.minAreaHa || (o.maxAreaHa > 0 && areaHa > o.maxAreaHa)) {
      ++rep.outsideAreaRange;
    } else if (o.frame && touchesFrame(f.polygon, *o.frame, o.frameMarginM)) {
      ++rep.touchFrame;
    } else if (overlapsLabels(humanUnion, f.polygon)) {
      ++rep.overlapLabels;
    } else {
      Field k = f;
      k.attrs["pseudo"] = std::int64_t{1};
      out.fields.push_back(std::move(k));
      ++rep.kept;
    }
  }
  if (report) *report = rep;
  return out;
}

}  // namespace fieldseg
