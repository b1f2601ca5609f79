// Grid mode of `fieldseg delineate`: resolve the shard, then delineate each of its cells with
// delineateOwned (cell = core window, read with a halo, fields owned by the tile rule).
#include "grid_run.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "card_thresholds.hpp"
#include "command.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/version.hpp"
#include "log.hpp"

namespace fieldseg::cli {

void addGridRunOptions(CLI::App& sub, GridRunFlags& f) {
  auto* g = sub.add_option("--grid", f.grid,
                           "Grid manifest (fieldseg grid): process only this task's cells, one "
                           "output per cell in --out-dir (then run fieldseg merge)");
  g->group("Grid / array jobs");
  sub.add_option_function<int>(
         "--shard-index",
         [&f](const int& v) {
           f.shardIndex = v;
           f.indexSet = true;
         },
         "This task's shard (default: SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX, "
         "JOB_COMPLETION_INDEX or CLOUD_RUN_TASK_INDEX)")
      ->group("Grid / array jobs");
  sub.add_option_function<int>(
         "--shard-count",
         [&f](const int& v) {
           f.shardCount = v;
           f.countSet = true;
         },
         "Number of shards (default: SLURM_ARRAY_TASK_COUNT or CLOUD_RUN_TASK_COUNT; required "
         "on AWS Batch and Kubernetes)")
      ->group("Grid / array jobs");
  sub.add_option("--out-dir", f.outDir, "Output folder of the cells (shared by all tasks)")
      ->group("Grid / array jobs");
  sub.add_option("--cell-halo-px", f.cellHaloPx,
                 "Pixels read around each cell; fields larger than this are dropped (warned)")
      ->capture_default_str()
      ->group("Grid / array jobs");
  sub.add_flag("--redo-finished", f.force, "Redo cells that are already finished")
      ->group("Grid / array jobs");
  // A grid run writes cells to --out-dir, so the single-run --out is required only without --grid.
  if (CLI::Option* out = sub.get_option_no_throw("--out"); out && out->get_required()) {
    out->required(false);
    sub.parse_complete_callback([&f, out] {
      if (f.grid.empty() && out->count() == 0) throw CLI::RequiredError("--out");
      if (!f.grid.empty() && f.outDir.empty()) {
        throw CLI::ValidationError("--grid", "needs --out-dir DIR (shared by all tasks)");
      }
      if (!f.grid.empty() && out->count() > 0) {
        throw CLI::ValidationError("--out",
                                   "not used with --grid: cells go to --out-dir, then run "
                                   "`fieldseg merge --out`");
      }
    });
  }
}

bool gridRunRequested(const GridRunFlags& f) { return !f.grid.empty(); }

void runGridShard(const GridRunFlags& f, const DelineateInput& input,
                  const DelineateOptions& options) {
  if (f.outDir.empty()) {
    throw UsageError("delineate: --grid needs --out-dir DIR (shared by all tasks).");
  }
  if (f.cellHaloPx < 0) throw UsageError("delineate: --cell-halo-px must be >= 0.");
  if (!options.probabilitiesOut.empty()) {
    throw UsageError("delineate: --probabilities-out is not available with --grid. Drop it.");
  }
  const batch::GridManifest grid = batch::readGrid(f.grid);
  DelineateOptions cellOptions = options;
  cellOptions.tempDir.clear();  // node-local temp (TMPDIR), not the shared output folder
  const batch::ShardSpec shard = batch::resolveShard(
      f.indexSet ? std::optional<int>(f.shardIndex) : std::nullopt,
      f.countSet ? std::optional<int>(f.shardCount) : std::nullopt, batch::processEnvironment());
  logLine("delineate: shard " + std::to_string(shard.index) + " (" + shard.indexSource + ") of " +
          std::to_string(shard.count) + " (" + shard.countSource + ")");

  // The pixel grid each cell is cut from: the probabilities file, the given dates, or the cell's
  // first image. Grids are cached per path (opening a /vsis3/ COG costs a round trip).
  std::map<std::string, GridSpec> grids;
  auto gridOf = [&](const std::string& path) -> const GridSpec& {
    auto it = grids.find(path);
    if (it == grids.end()) it = grids.emplace(path, openRaster(splitList(path))->grid()).first;
    return it->second;
  };

  batch::CellDelineator delineateCell = [&](const batch::GridCell& cell) -> FieldSet {
    DelineateInput in = input;
    if (in.dates.empty() && cell.images.empty()) {
      throw DataError("delineate: cell '" + cell.id + "' lists no image. Rebuild the grid.");
    }
    // The cell's image gives the imagery (or, with probabilities, the acquisition metadata and the
    // `source` attribute), exactly as `fieldseg delineate IMAGE` would.
    if (in.dates.empty()) in.dates = {{cell.images.front()}};
    const std::string& ref = !in.probabilitiesIn.empty() ? in.probabilitiesIn
                             : !in.dates.empty()         ? in.dates.front().front()
                                                         : cell.images.front();
    const PixelWindow core = batch::cellWindow(cell, grid.crs, gridOf(ref));
    FieldSet out;
    out.crs = grid.crs;
    if (core.empty()) return out;
    long long dropped = 0;
    DelineateResult r = delineateOwned(in, core, f.cellHaloPx, cellOptions, &dropped);
    if (dropped > 0) {
      logLine("delineate: WARNING cell " + cell.id + ": " + std::to_string(dropped) +
              " fields reach beyond the " + std::to_string(f.cellHaloPx) +
              " px halo and were dropped. Raise --cell-halo-px.");
    }
    out.fields = std::move(r.fields.fields);
    return out;
  };
  // A grid in another CRS than the given rasters fails every cell: say so once, up front.
  const std::string given = !input.probabilitiesIn.empty() ? input.probabilitiesIn
                            : !input.dates.empty()         ? input.dates.front().front()
                                                           : std::string();
  if (!given.empty() && !grid.cells.empty())
    batch::cellWindow(grid.cells.front(), grid.crs, gridOf(given));
  batch::ShardRunOptions ro;
  ro.force = f.force;
  nlohmann::ordered_json info;
  info["command"] = "delineate --grid";
  info["fieldseg_version"] = kVersion;
  info["grid"] = f.grid;
  info["config"] = {{"cell_halo_px", f.cellHaloPx}, {"tile_px", options.tilePx},
                    {"halo_px", options.haloPx},    {"gsd_m", options.gsdM},
                    {"bands", options.bands},       {"simplify_m", options.simplifyM},
                    {"redo_finished", f.force}};
  // Every threshold (t_ext, t_bound, t_dist, marker_h, min_area_m2: fieldseg/thresholds.hpp).
  const nlohmann::json thresholds = thresholdsJson(options.thresholds);
  for (const auto& [key, value] : thresholds.items()) info["config"][key] = value;
  std::vector<std::string> dates;
  for (const auto& d : input.dates)
    for (const auto& p : d) dates.push_back(p);
  info["inputs"] = {
      {"images", dates}, {"probabilities_in", input.probabilitiesIn}, {"model", input.modelName}};
  ro.runInfoJson = info.dump();
  ro.log = [](const std::string& line) { logLine(line); };
  batch::ShardRunReport rep = batch::runShard(grid, shard, f.outDir, delineateCell, ro);
  logLine("delineate: shard " + std::to_string(shard.index) + ": " +
          std::to_string(rep.processed()) + " cells processed, " + std::to_string(rep.skipped()) +
          " skipped (finished)");
  std::fputs(rep.toJson().c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace fieldseg::cli
