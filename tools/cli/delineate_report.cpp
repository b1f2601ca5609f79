// How `fieldseg delineate` reports a run: the log lines and OUT.run.json (delineate_args.hpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "card_thresholds.hpp"
#include "command.hpp"
#include "delineate_args.hpp"
#include "fieldseg/checksum.hpp"
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

void writeRunRecord(const DelineateArgs& a, const DelineateOptions& o, const ModelInfo& model,
                    const DelineateReport& rep, const Timings& t, const std::string& startedUtc) {
  json j = runRecordHead("delineate", startedUtc);
  j["config"] = {{"tile_px", o.tilePx},
                 {"halo_px", o.haloPx},
                 {"batch", o.batch},
                 {"threads", o.threads},
                 {"gsd", a.gsd},
                 {"gsd_m", o.gsdM > 0 ? json(o.gsdM) : json("native")},
                 {"gsd_note", model.gsdNote.empty() ? json() : json(model.gsdNote)},
                 {"bands", o.dateBands.empty() ? json(o.bands) : json(o.dateBands)},
                 {"tta", a.tta},
                 {"precision", model.precision.empty() ? json() : json(model.precision)},
                 {"cpu_bf16", model.cpuBf16.empty() ? json() : json(model.cpuBf16)},
                 {"network_kernels", model.kernels.empty() ? json() : json(model.kernels)},
                 {"simplify_m", o.simplifyM},
                 {"crs", a.crs},
                 {"datetime", a.datetime.empty() ? json() : json(o.datetime)},
                 {"overwrite", a.overwrite},
                 {"fields_halo_px", fieldsHaloMarginPx(o)}};
  j["config"].update(
      thresholdsJson(o.thresholds));  // t_ext, t_bound, ... (fieldseg/thresholds.hpp)
  j["flags"] = a.flags;               // as declared and given: a --config file that repeats the run
  json images = json::array();
  for (const auto& img : a.images) {
    json date = json::array();
    for (const auto& f : splitList(img)) date.push_back(fileEntry(f));
    images.push_back(date);
  }
  j["inputs"] = {
      {"images", images},
      {"probabilities_in", a.probabilitiesIn.empty() ? json() : fileEntry(a.probabilitiesIn)},
      {"model", a.model.empty() ? json() : fileEntry(a.model)},
      {"config", a.config.empty() ? json() : fileEntry(a.config)},
      {"aoi", a.aoi.empty()       ? json()
              : fs::exists(a.aoi) ? fileEntry(a.aoi)
                                  : json(a.aoi)}};
  j["model"] = {{"name", model.name}, {"version", model.version}};
  if (!a.model.empty()) j["model"]["sha256"] = sha256File(a.model);
  if (!model.card.is_null()) j["model"]["thresholds"] = model.card.value("thresholds", json());
  j["outputs"] = {
      {"fields", fileEntry(a.out)},
      {"probabilities", a.probabilitiesOut.empty() ? json() : fileEntry(a.probabilitiesOut)}};
  j["result"] = {{"fields", rep.fieldCount},
                 {"crs", rep.grid.crs().label()},
                 {"width", rep.grid.width()},
                 {"height", rep.grid.height()},
                 {"window", {rep.window.x, rep.window.y, rep.window.width, rep.window.height}},
                 {"gsd_m", rep.grid.gsdMeters()},
                 {"bands", rep.bands},
                 {"datetime", rep.datetime},
                 {"predict_tiles", rep.predictTiles},
                 {"network_tile_px", {rep.networkTileX, rep.networkTileY}},
                 {"network_pixels", rep.networkPixels},
                 {"nodata_tiles", rep.nodataTiles},
                 {"nan_inf_pixels_masked", rep.nonFinitePixels},
                 {"fields_tiles", rep.tiles},
                 {"merged_across_tiles", rep.piecesMerged},
                 {"dropped_below_min_area", rep.droppedSmall},
                 {"all_nodata", rep.allNodata},
                 {"band_p2_p98", rep.bandP2P98}};
  j["timings_s"] = {{"stats", rep.statsSeconds},
                    {"predict", rep.predictSeconds},
                    {"fields", rep.fieldsSeconds},
                    {"write", t.writeS},
                    {"total", t.totalS}};
  j["host"] = {{"hardware_threads", std::thread::hardware_concurrency()}};
  writeTextAtomically(runRecordPath(a.out), j.dump(2), "delineate");
}

void logSummary(const DelineateArgs& a, const DelineateOptions& o, const ModelInfo& model,
                const DelineateReport& rep, double totalS, double writeS) {
  if (model.gsdRange && o.gsdM <= 0) {
    const double lo = model.gsdRange->first, hi = model.gsdRange->second;
    const double gsd = rep.grid.gsdMeters();
    if (gsd < lo * 0.8 || gsd > hi * 1.25) {
      char w[256];
      std::snprintf(
          w, sizeof w,
          "delineate: warning: image GSD %.2f m is outside the model's range %.1f-%.1f m; "
          "expect weaker results (drop --gsd native to resample into the range)",
          gsd, lo, hi);
      logLine(w);
    }
  }
  if (rep.nonFinitePixels > 0)
    logLine("delineate: warning: " + std::to_string(rep.nonFinitePixels) +
            " pixel-dates hold NaN/Inf values; they were masked as nodata (no fields there)");
  if (rep.allNodata)
    logLine("delineate: every pixel of the input is nodata: wrote an empty layer to " + a.out);
  const double mpx = rep.window.area() / 1e6;
  char line[640];
  std::snprintf(
      line, sizeof line,
      "delineate: %zu fields (%lld merged across tiles, %lld below %.0f m2) from %.2f Mpx "
      "in %.1f s (predict %.1f s%s, fields %.1f s, write %.1f s) -> %s",
      static_cast<size_t>(rep.fieldCount), rep.piecesMerged, rep.droppedSmall,
      o.thresholds.minAreaM2, mpx, totalS, rep.predictSeconds,
      rep.predictSeconds > 0
          ? (" = " + std::to_string(mpx / rep.predictSeconds).substr(0, 5) + " Mpx/s").c_str()
          : "",
      rep.fieldsSeconds, writeS, a.out.c_str());
  logLine(line);
  // -v: each stage's time and rate, and how many pixels the network ran for each output pixel.
  char detail[512];
  const double netPx = static_cast<double>(rep.networkPixels);
  std::snprintf(detail, sizeof detail,
                "delineate: stages: statistics %.2f s; predict %.2f s (%lld tiles of %dx%d px + "
                "%d px halo, %.2f network px per output px and date); fields %.2f s (%lld tiles, "
                "%.2f Mpx/s); write %.2f s (%.0f fields/s); total %.2f s",
                rep.statsSeconds, rep.predictSeconds, rep.predictTiles, rep.networkTileX,
                rep.networkTileY, o.haloPx,
                rep.window.area() > 0 ? netPx / static_cast<double>(rep.window.area()) /
                                            std::max<size_t>(1, rep.bandP2P98.size())
                                      : 0.0,
                rep.fieldsSeconds, rep.tiles, rep.fieldsSeconds > 0 ? mpx / rep.fieldsSeconds : 0.0,
                writeS, writeS > 0 ? static_cast<double>(rep.fieldCount) / writeS : 0.0, totalS);
  logLine(detail, true);
  if (!model.kernels.empty())  // what ran the network (run.json: config.precision, network_kernels)
    logLine("delineate: network: " + model.precision +
                (model.cpuBf16.empty() ? "" : " (CPU bf16: " + model.cpuBf16 + ")") + ", " +
                model.kernels,
            true);
}

}  // namespace fieldseg::cli
