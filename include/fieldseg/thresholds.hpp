// The post-processing thresholds (model card "thresholds", delineate and calibrate flags,
// run.json), declared once: each one's key, flag, default, valid range and meaning live in
// thresholdSpecs(), and every reader, checker and writer goes through that table.
#pragma once

#include <string>
#include <vector>

namespace fieldseg {

struct Thresholds {
  double tExt = 0.4;       ///< extent threshold: a pixel may belong to a field when extent >= this
  double tBound = 0.2;     ///< boundary threshold (the watershed hierarchy cut)
  double minAreaM2 = 100;  ///< smaller fields are dropped (ellipsoidal area, m^2)
  /// Marker threshold on the distance head: 0 = basin floors are the markers; > 0 = markers are
  /// the h-maxima of the smoothed distance at least t_dist high (src/post/instances.cpp, marker
  /// mode).
  double tDist = 0;
  /// Marker mode: the dynamic (height above the deepest pass to a higher peak) a smoothed
  /// distance peak needs to seed a field. Lower splits more, higher merges more.
  double markerH = 0.1;
};

/// One threshold: its card / run.json key, its command-line flag, the member it sets, its valid
/// range (lo and hi, each open or closed) and a one-line meaning for --help.
struct ThresholdSpec {
  const char* key;
  const char* flag;
  double Thresholds::*member;
  double lo, hi;
  bool openLow, openHigh;
  const char* help;
};

/// Every threshold, in the order cards and run records list them.
const std::vector<ThresholdSpec>& thresholdSpecs();
/// The spec of `key` ("t_ext", ...); std::out_of_range for an unknown key (a programming error).
const ThresholdSpec& thresholdSpec(const std::string& key);
/// True when `v` lies in the spec's range (NaN never does).
bool inRange(const ThresholdSpec& s, double v);
/// The range as text, e.g. "(0, 1]".
std::string rangeText(const ThresholdSpec& s);
/// Throws UsageError naming the flag of the first threshold out of its range.
void checkThresholds(const Thresholds& t, const std::string& component);

}  // namespace fieldseg
