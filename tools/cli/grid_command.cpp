// `fieldseg grid`: the cell manifest (grid.json) that array tasks and `fieldseg merge` share.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "aoi.hpp"
#include "command.hpp"
#include "config_file.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
namespace {

struct GridArgs {
  std::string config;  ///< --config FILE.json (config_file.hpp)
  std::vector<std::string> images;
  std::string aoi;
  double cellM = 10000;
  std::string crs;
  std::string origin;
  bool snap = false;
  std::string shardMode = "round-robin";
  std::string out;
  bool overwrite = false;
  nlohmann::json flags;  ///< every flag as resolved (resolvedFlags), for the run record
};

Point parseOrigin(const std::string& text) {
  std::stringstream ss(text);
  double x = 0, y = 0;
  char comma = 0;
  if (!(ss >> x >> comma >> y) || comma != ',' || !ss.eof()) {
    throw UsageError("grid: --origin '" + text + "' is not X,Y. Pass e.g. --origin 500000,0.");
  }
  return {x, y};
}

void run(const GridArgs& a) {
  {
    std::vector<NamedPath> inputs{{"--aoi", a.aoi}};
    for (const auto& i : a.images) inputs.emplace_back("--images", i);
    refuseSamePaths("grid", {{"--out", a.out}}, inputs);
  }
  if (a.images.empty() && a.aoi.empty()) {
    throw UsageError("grid: nothing to grid. Pass --images IMG... (and optionally --aoi POLY).");
  }
  batch::GridOptions o;
  o.cellM = a.cellM;
  if (!a.crs.empty()) o.crs = Crs::fromUserInput(a.crs);
  if (!a.origin.empty()) o.origin = parseOrigin(a.origin);
  if (o.origin && a.snap) throw UsageError("grid: pass either --origin or --snap-to-extent.");
  o.snapToExtent = a.snap;
  o.shardMode = batch::shardModeFromString(a.shardMode);

  std::vector<batch::ImageFootprint> footprints;
  for (const auto& path : a.images) {
    auto src = openRaster(splitList(path));
    footprints.push_back(batch::footprintOf(path, src->grid()));
    logLine("grid: " + path + ": " + std::to_string(src->grid().width()) + " x " +
                std::to_string(src->grid().height()) + " px, " + src->grid().crs().label(),
            true);
  }
  FieldSet aoi;
  if (!a.aoi.empty()) aoi = readAoi(a.aoi, "grid");
  batch::GridManifest g = batch::buildGrid(footprints, aoi, o, a.aoi);
  batch::writeGrid(g, a.out, a.overwrite);
  nlohmann::json j = runRecordHead("grid");
  j["flags"] = a.flags;
  j["outputs"] = {{"grid", fileEntry(a.out)}};
  j["result"] = {{"cells", g.cells.size()}, {"uncovered_cells", g.uncoveredCells.size()}};
  writeTextAtomically(runRecordPath(a.out), j.dump(2), "grid");
  char cell[32];
  std::snprintf(cell, sizeof(cell), "%g", g.cellM);
  std::string msg = "grid: " + std::to_string(g.cells.size()) + " cells of " + cell + " m in " +
                    g.crs.label() + " -> " + a.out;
  if (!g.uncoveredCells.empty()) {
    msg += " (" + std::to_string(g.uncoveredCells.size()) +
           " AOI cells have no image and are listed under uncovered_cells)";
  }
  logLine(msg);
}

const Registrar registrar(
    "grid", "Cut an AOI or the union of image footprints into a manifest of cells for array jobs",
    70, [](CLI::App& sub) {
      auto a = std::make_shared<GridArgs>();
      addFlagConfigOption(sub, a->config);
      sub.add_option("--images", a->images,
                     "Images (paths, VRTs or /vsi* URLs); each cell lists those overlapping it")
          ->expected(1, -1);
      sub.add_option(
          "--aoi", a->aoi,
          "Polygons of the area of interest (any vector format, any CRS) or a lon/lat box "
          "minlon,minlat,maxlon,maxlat; default: the "
          "union of the image footprints");
      sub.add_option("--cell-m", a->cellM, "Cell side in metres")
          ->check(CLI::Range(1.0, 1e7))
          ->capture_default_str();
      sub.add_option("--crs", a->crs,
                     "Metric CRS of the cells (EPSG:...); default: the images' common projected "
                     "CRS, else the UTM zone of the area's centre");
      sub.add_option("--origin", a->origin,
                     "Cell origin X,Y in the grid CRS (default 0,0: cells aligned globally)");
      sub.add_flag("--snap-to-extent", a->snap,
                   "Put the origin at the south-west corner of the area instead");
      sub.add_option("--shard-mode", a->shardMode,
                     "How cells map to shards: round-robin (cell i -> shard i % N) or blocks "
                     "(contiguous runs)")
          ->capture_default_str();
      sub.add_option("--out", a->out, "Output manifest (grid.json)")->required();
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing --out");
      sub.callback([a, &sub] {
        a->flags = resolvedFlags(sub);
        run(*a);
      });
    });

}  // namespace
}  // namespace fieldseg::cli
