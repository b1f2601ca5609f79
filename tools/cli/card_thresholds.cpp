#include "card_thresholds.hpp"

#include <cstdio>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {

using nlohmann::json;

Thresholds thresholdsOf(const DelineateOptions& o) {
  return {o.tExt, o.tBound, o.minAreaM2, o.tDist, o.markerH};
}

void applyThresholds(const Thresholds& t, DelineateOptions& o) {
  o.tExt = t.tExt;
  o.tBound = t.tBound;
  o.minAreaM2 = t.minAreaM2;
  o.tDist = t.tDist;
  o.markerH = t.markerH;
}

namespace {

// Replaces v by the card's value of `key` when the card has one; checks type and range.
void readKey(const json& th, const char* key, double lo, double hi, bool openLow, bool openHigh,
             const std::string& modelPath, double& v) {
  if (!th.contains(key)) return;
  const json& x = th.at(key);
  const bool number = x.is_number();
  const double d = number ? x.get<double>() : 0.0;
  const bool inRange = number && (openLow ? d > lo : d >= lo) && (openHigh ? d < hi : d <= hi);
  if (!inRange) {
    char range[64];
    std::snprintf(range, sizeof range, "%c%g, %g%c", openLow ? '(' : '[', lo, hi,
                  openHigh ? ')' : ']');
    throw DataError("model card of '" + modelPath + "': thresholds." + key + " = " + x.dump() +
                    " is not a number in " + range +
                    ". Re-calibrate the model (`fieldseg calibrate --out`) or override it with "
                    "the matching flag.");
  }
  v = d;
}

}  // namespace

Thresholds cardThresholds(const json& card, const std::string& modelPath, Thresholds base) {
  if (!card.contains("thresholds")) return base;
  const json& th = card.at("thresholds");
  if (!th.is_object()) {
    throw DataError("model card of '" + modelPath +
                    "': \"thresholds\" is not an object. Re-calibrate the model.");
  }
  readKey(th, "t_ext", 0, 1, false, false, modelPath, base.tExt);
  readKey(th, "t_bound", 0, 1, true, false, modelPath, base.tBound);
  readKey(th, "t_dist", 0, 1, false, true, modelPath, base.tDist);
  readKey(th, "marker_h", 0, 1, true, true, modelPath, base.markerH);
  readKey(th, "min_area_m2", 0, 1e12, false, false, modelPath, base.minAreaM2);
  return base;
}

json thresholdsJson(const Thresholds& t) {
  return {{"t_ext", t.tExt},
          {"t_bound", t.tBound},
          {"min_area_m2", t.minAreaM2},
          {"t_dist", t.tDist},
          {"marker_h", t.markerH}};
}

std::string cardString(const nlohmann::json& card, const std::string& key,
                       const std::string& fallback, const std::string& modelPath) {
  if (!card.is_object())
    throw DataError("model card of '" + modelPath + "' is not a JSON object (it is " +
                    std::string(card.type_name()) + "). Rewrite the card or retrain.");
  if (!card.contains(key) || card[key].is_null()) return fallback;
  if (!card[key].is_string())
    throw DataError("model card of '" + modelPath + "': " + key + " is " +
                    std::string(card[key].type_name()) + ", not a string. Fix the card.");
  return card[key].get<std::string>();
}

std::optional<std::pair<double, double>> cardGsdRange(const nlohmann::json& card,
                                                      const std::string& modelPath) {
  if (!card.is_object() || !card.contains("gsd_range_m") || card["gsd_range_m"].is_null())
    return std::nullopt;
  const nlohmann::json& g = card["gsd_range_m"];
  if (!g.is_array() || g.size() != 2 || !g[0].is_number() || !g[1].is_number() ||
      !(g[0].get<double>() > 0) || !(g[0].get<double>() <= g[1].get<double>()))
    throw DataError("model card of '" + modelPath + "': gsd_range_m = " + g.dump() +
                    " is not [min, max] in metres (two positive numbers, min <= max). Fix the "
                    "card.");
  return std::make_pair(g[0].get<double>(), g[1].get<double>());
}

}  // namespace fieldseg::cli
