#include "fieldseg/thresholds.hpp"

#include <cstdio>
#include <stdexcept>

#include "fieldseg/error.hpp"

namespace fieldseg {

const std::vector<ThresholdSpec>& thresholdSpecs() {
  static const std::vector<ThresholdSpec> specs = {
      {"t_ext", "--t-ext", &Thresholds::tExt, 0, 1, false, false,
       "Extent threshold: a pixel may belong to a field when extent >= this"},
      {"t_bound", "--t-bound", &Thresholds::tBound, 0, 1, true, false,
       "Boundary threshold: the cut of the watershed hierarchy"},
      {"min_area_m2", "--min-area-m2", &Thresholds::minAreaM2, 0, 1e12, false, false,
       "Fields smaller than this (m^2, ellipsoidal) are dropped"},
      {"t_dist", "--t-dist", &Thresholds::tDist, 0, 1, false, true,
       "Marker threshold on the distance head (0 = basin floors are the markers)"},
      {"marker_h", "--marker-h", &Thresholds::markerH, 0, 1, true, true,
       "Marker mode: the height a distance peak needs above its pass to seed a field"},
  };
  return specs;
}

const ThresholdSpec& thresholdSpec(const std::string& key) {
  for (const ThresholdSpec& s : thresholdSpecs())
    if (key == s.key) return s;
  throw std::out_of_range("thresholds: no threshold '" + key + "'");
}

bool inRange(const ThresholdSpec& s, double v) {
  return (s.openLow ? v > s.lo : v >= s.lo) && (s.openHigh ? v < s.hi : v <= s.hi);
}

std::string rangeText(const ThresholdSpec& s) {
  char range[64];
  std::snprintf(range, sizeof range, "%c%g, %g%c", s.openLow ? '(' : '[', s.lo, s.hi,
                s.openHigh ? ')' : ']');
  return range;
}

void checkThresholds(const Thresholds& t, const std::string& component) {
  for (const ThresholdSpec& s : thresholdSpecs()) {
    const double v = t.*s.member;
    if (!inRange(s, v)) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", v);
      throw UsageError(component + ": " + s.key + " = " + value + " must be in " + rangeText(s) +
                       ". Fix " + s.flag + ".");
    }
  }
}

}  // namespace fieldseg
