#include "card_thresholds.hpp"

#include <cstdio>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {

using nlohmann::json;

namespace {

// Replaces the spec's member of `t` by the card's value when the card has one; checks type and
// range.
void readKey(const json& th, const ThresholdSpec& spec, const std::string& modelPath,
             Thresholds& t) {
  if (!th.contains(spec.key)) return;
  const json& x = th.at(spec.key);
  if (!x.is_number() || !inRange(spec, x.get<double>())) {
    throw DataError("model card of '" + modelPath + "': thresholds." + spec.key + " = " + x.dump() +
                    " is not a number in " + rangeText(spec) +
                    ". Re-calibrate the model (`fieldseg calibrate --out`) or override it with "
                    "the matching flag.");
  }
  t.*spec.member = x.get<double>();
}

}  // namespace

Thresholds cardThresholds(const json& card, const std::string& modelPath, Thresholds base) {
  if (!card.contains("thresholds")) return base;
  const json& th = card.at("thresholds");
  if (!th.is_object()) {
    throw DataError("model card of '" + modelPath +
                    "': \"thresholds\" is not an object. Re-calibrate the model.");
  }
  for (const ThresholdSpec& spec : thresholdSpecs()) readKey(th, spec, modelPath, base);
  return base;
}

json thresholdsJson(const Thresholds& t) {
  json j = json::object();
  for (const ThresholdSpec& spec : thresholdSpecs()) j[spec.key] = t.*spec.member;
  return j;
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
