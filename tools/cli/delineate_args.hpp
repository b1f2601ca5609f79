// What `fieldseg delineate` works with (its flags, the model it loaded) and how it reports a run:
// the log lines and OUT.run.json (delineate_report.cpp). The command itself is in
// delineate_command.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fieldseg/delineate.hpp"
#include "fieldseg/thresholds.hpp"
#include "grid_run.hpp"

namespace fieldseg::cli {

struct DelineateArgs {
  std::vector<std::string> images;
  std::string model, probabilitiesIn, out, probabilitiesOut, aoi, crs, config, datetime;
  std::vector<std::string> bands;  ///< one selection for every date, or one per date
  std::string precision = "auto";
  int tilePx = 512, haloPx = 64, batch = 1, threads = 0;
  std::string gsd = "auto";  ///< auto (into the model's GSD range), native, or metres
  double maxMpx = 4000;
  /// One per thresholdSpecs() entry, in its order: what the flag gave, else the card's value.
  std::vector<std::optional<double>> thresholds =
      std::vector<std::optional<double>>(thresholdSpecs().size());
  std::optional<double> simplifyM;
  int tta = 1;
  bool overwrite = false;
  GridRunFlags grid;     // batch: --grid mode (grid_run.hpp)
  nlohmann::json flags;  ///< every flag as resolved (config_file.hpp, resolvedFlags), for run.json
};

struct ModelInfo {
  std::string name, version;
  std::string precision;  ///< the network's resolved precision (fp32 / bf16); empty without one
  std::string cpuBf16;    ///< with bf16: the CPU's bf16 instructions (cpuNativeBf16())
  std::string kernels;    ///< what ran the network (Predictor::kernels()), after the run
  std::string gsdNote;    ///< why the imagery was (or was not) resampled, for the log and run.json
  nlohmann::json card;
  std::optional<std::pair<double, double>> gsdRange;  ///< the card's gsd_range_m
};

struct Timings {
  double writeS = 0, totalS = 0;
};

/// OUT.run.json: the resolved configuration, the exact inputs (absolute paths, sizes, the
/// model's SHA-256), the outputs, the summary and the timings of this run.
void writeRunRecord(const DelineateArgs& a, const DelineateOptions& o, const ModelInfo& model,
                    const DelineateReport& rep, const Timings& t, const std::string& startedUtc);

/// The warnings a user must see (GSD outside the model's range, NaN/Inf pixels, all nodata), the
/// one-line summary and (-v) each stage's time and rate.
void logSummary(const DelineateArgs& a, const DelineateOptions& o, const ModelInfo& model,
                const DelineateReport& rep, double totalS, double writeS);

}  // namespace fieldseg::cli
