// The post-processing thresholds a model card carries ("thresholds": t_ext, t_bound, t_dist,
// marker_h, min_area_m2), read, checked and written in one place for delineate and calibrate.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "fieldseg/delineate.hpp"
#include "fieldseg/eval.hpp"

namespace fieldseg::cli {

/// The thresholds `o` holds.
Thresholds thresholdsOf(const DelineateOptions& o);
/// Copies `t` into `o`.
void applyThresholds(const Thresholds& t, DelineateOptions& o);

/// `base` with every key the card's "thresholds" object sets replaced by the card's value. A
/// value that is not a number or lies outside its range throws DataError naming the model file
/// and the key (the card is at fault, not a flag).
Thresholds cardThresholds(const nlohmann::json& card, const std::string& modelPath,
                          Thresholds base);

/// {"t_ext", "t_bound", "min_area_m2", "t_dist", "marker_h"} as the card stores them.
nlohmann::json thresholdsJson(const Thresholds& t);

}  // namespace fieldseg::cli
