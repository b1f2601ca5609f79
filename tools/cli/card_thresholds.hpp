// The post-processing thresholds a model card carries ("thresholds": t_ext, t_bound, t_dist,
// marker_h, min_area_m2), read, checked and written in one place for delineate and calibrate.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "fieldseg/thresholds.hpp"

namespace fieldseg::cli {

/// `base` with every key the card's "thresholds" object sets replaced by the card's value. A
/// value that is not a number or lies outside its range throws DataError naming the model file
/// and the key (the card is at fault, not a flag).
Thresholds cardThresholds(const nlohmann::json& card, const std::string& modelPath,
                          Thresholds base);

/// The card's string `key`, `fallback` when absent; DataError naming the file and key when the
/// card is not a JSON object or the value is not a string.
std::string cardString(const nlohmann::json& card, const std::string& key,
                       const std::string& fallback, const std::string& modelPath);
/// The card's "gsd_range_m" [min, max] in metres, nothing when absent; DataError naming the file
/// when it is not two positive numbers with min <= max.
std::optional<std::pair<double, double>> cardGsdRange(const nlohmann::json& card,
                                                      const std::string& modelPath);

/// {"t_ext", "t_bound", "min_area_m2", "t_dist", "marker_h"} as the card stores them.
nlohmann::json thresholdsJson(const Thresholds& t);

}  // namespace fieldseg::cli
